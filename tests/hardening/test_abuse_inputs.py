"""Hostile and broken inputs: each gets a clear 4xx problem (or a valid range answer), no 5xx, no leftovers.

After every test, the media directory holds exactly the files of the videos that are ready: no
staged upload, no partial write under .tmp, and nothing outside the storage layout.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.hardening.actors import (
    Tenant,
    add_ready_video,
    add_user,
    expect,
    problem,
    sign_up,
    upload,
    wait_until_processed,
)
from tests.hardening.forms import FORM_TYPE, chunks, form
from tests.hardening.report import record
from tests.hardening.wiring import Api, Backend, saq_worker, serving

pytestmark = pytest.mark.asyncio(loop_scope="module")

MAX_UPLOAD = 256 * 1024
VIDEOS = "/api/v1/videos"


@dataclass(slots=True)
class World:
    api: Api
    tenant: Tenant
    video: str
    sample: bytes
    media_dir: Path
    cases: int = 0

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.admin.headers


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(backend: Backend, sample_mp4: bytes) -> AsyncIterator[World]:
    assert len(sample_mp4) < MAX_UPLOAD // 2
    async with serving(backend, env={"VIDPLAT_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)}) as api, saq_worker(backend):
        tenant = await sign_up(api.client)
        await add_user(api.client, tenant)
        video = await add_ready_video(api.client, tenant, sample_mp4)
        world = World(api, tenant, video, sample_mp4, api.container.settings.media_dir)
        yield world
        record("abuse inputs", f"[{backend.wiring}] {world.cases} hostile requests -> 4xx problem or valid range")


@pytest_asyncio.fixture(loop_scope="module", autouse=True)
async def leaves_nothing_behind(world: World) -> AsyncIterator[None]:
    yield
    ready = await _ready_videos(world)
    files = sorted(p.relative_to(world.media_dir) for p in world.media_dir.rglob("*") if p.is_file())
    assert files, "the ready videos' files are missing"
    for relative in files:
        parts = relative.parts
        assert parts[0] == "orgs", f"left behind: {relative}"
        assert parts[2] == "videos", f"left behind: {relative}"
        assert parts[3] in ready, f"file of a video that is not ready: {relative}"


async def post_form(world: World, body: bytes | AsyncIterator[bytes], **headers: str) -> httpx.Response:
    world.cases += 1
    sent = {"Content-Type": FORM_TYPE, **world.admin, **headers}
    return await world.client.post(VIDEOS, content=body, headers=sent)


# --- uploads ---------------------------------------------------------------------------------


async def test_an_oversize_upload_is_refused_while_streaming(world: World) -> None:
    big = world.sample + secrets.token_bytes(MAX_UPLOAD)  # a real video head, then too many bytes
    streamed = await post_form(world, chunks(form((b"title", None, b"Big"), (b"file", b"big.mp4", big))))
    assert problem(streamed, 413)["code"] == "file_too_large"
    # A Content-Length far over the limit is refused before the body is read at all.
    huge = world.sample + bytes(MAX_UPLOAD + 2 * 1024 * 1024)
    announced = await post_form(world, form((b"title", None, b"Big"), (b"file", b"big.mp4", huge)))
    assert problem(announced, 413)["code"] == "file_too_large"


async def test_empty_and_non_video_files_are_refused(world: World) -> None:
    not_videos = [b"", b"\x00", b"hello, world\n" * 100, b"\x89PNG\r\n\x1a\n" + bytes(200), b"%PDF-1.7\n" + bytes(200)]
    not_videos.append(b"\x00\x00\x00\x18ftypheic" + bytes(200))  # an image in an ISO-BMFF box
    for data in not_videos:
        answer = await post_form(world, form((b"title", None, b"Junk"), (b"file", b"junk.mp4", data)))
        assert problem(answer, 415)["code"] == "unsupported_media", data[:16]


async def test_uploads_that_are_not_well_formed_forms_are_refused(world: World) -> None:
    good = form((b"title", None, b"Clip"), (b"file", b"clip.mp4", world.sample))
    cases: list[tuple[bytes, dict[str, str]]] = [
        (b'{"title": "x"}', {"Content-Type": "application/json"}),
        (good, {"Content-Type": "text/plain"}),
        (good, {"Content-Type": "multipart/form-data"}),  # no boundary
        (good, {"Content-Type": "multipart/form-data; boundary=another-one"}),
        (good[: len(good) // 2], {}),  # cut off mid-file: no closing boundary
        (form((b"file", b"clip.mp4", world.sample)), {}),  # no title
        (form((b"title", None, b"Clip")), {}),  # no file
        (form((b"file", b"clip.mp4", world.sample), (b"title", None, b"After")), {}),  # title after the file
        (form((b"title", None, b"x" * 251), (b"file", b"clip.mp4", world.sample)), {}),
        (form((b"title", None, b"   "), (b"file", b"clip.mp4", world.sample)), {}),
        (form((b"title", None, b"\xff\xfe bad utf-8"), (b"file", b"clip.mp4", world.sample)), {}),
        (form((b"title", None, b"a"), (b"title", None, b"b"), (b"file", b"c.mp4", world.sample)), {}),
        (form((b"title", None, b"a"), (b"file", b"a.mp4", world.sample), (b"file", b"b.mp4", world.sample)), {}),
        (form((b"title", None, b"Clip"), (b"description", None, b"d" * (65 * 1024)), (b"file", b"c.mp4", b"")), {}),
        (b"", {}),
    ]
    for body, headers in cases:
        problem(await post_form(world, body, **headers), 400, 415, 422)


async def test_multipart_bombs_are_refused(world: World) -> None:
    many = form(*((b"f%d" % i, None, b"x") for i in range(10_000)), (b"file", b"c.mp4", world.sample))
    answer = await post_form(world, many)
    assert problem(answer, 422)["errors"][0]["message"] == "too many parts"
    after_file = form(
        (b"title", None, b"T"), (b"file", b"c.mp4", world.sample), *((b"g%d" % i, None, b"") for i in range(50))
    )
    problem(await post_form(world, after_file), 422)
    huge_header = form((b"title" + b"x" * 1_000_000, None, b"T"), (b"file", b"c.mp4", world.sample))
    problem(await post_form(world, huge_header), 400, 413, 422)
    tiny_chunks = form(*((b"h%d" % i, None, b"") for i in range(5_000)))
    problem(await post_form(world, chunks(tiny_chunks, size=7)), 422)


async def test_truncated_videos_fail_processing_and_leave_nothing(world: World) -> None:
    cut = world.sample[: len(world.sample) // 2]
    world.cases += 1
    video = await upload(world.client, world.tenant.admin, cut, title="Cut short")
    processed = await wait_until_processed(world.client, world.tenant.admin, video["id"])
    assert processed["status"] == "failed", processed
    assert processed["failure_reason"]
    assert "/" not in processed["failure_reason"], processed["failure_reason"]  # no paths in messages
    hidden = await world.client.get(f"{VIDEOS}/{video['id']}/stream", headers=world.tenant.member.headers)
    problem(hidden, 404)


async def test_client_file_names_never_reach_the_disk(world: World) -> None:
    names = [b"../../../../etc/passwd", b"..\\..\\boot.ini", b"/etc/shadow", b"a\x00b.mp4", b"\x00", b"x" * 5000]
    names += [b"con.mp4", b"\xff\xfe.mp4", b"%2e%2e%2fescape.mp4", b"\r\nX-Injected: 1"]
    accepted = []
    for name in names:
        answer = await post_form(world, form((b"title", None, b"Named"), (b"file", name, world.sample)))
        if answer.status_code == 202:
            accepted.append(answer.json()["id"])
        else:
            problem(answer, 400, 422)
    for video in accepted:
        assert (await wait_until_processed(world.client, world.tenant.admin, video))["status"] == "ready"
    data_dir = world.media_dir.parent
    outside = [p for p in data_dir.rglob("*") if p.is_file() and world.media_dir not in p.parents]
    assert all(p.suffix in (".db", ".key", ".db-wal", ".db-shm") for p in outside), outside


# --- JSON, strings, encodings ----------------------------------------------------------------


async def test_huge_and_deep_json_bodies_are_refused(world: World) -> None:
    client = world.client
    huge = b'{"name": "' + b"a" * (11 * 1024 * 1024) + b'", "admin_email": "a@b.co", "admin_password": "x"}'
    deep = b"[" * 100_000 + b"]" * 100_000
    cases = [
        ("POST", "/api/v1/organizations", huge, (413,)),
        ("POST", "/api/v1/organizations", deep, (400, 422)),
        ("POST", "/api/v1/auth/login", b'{"organization": ' + b"[" * 50_000, (400,)),
        ("PATCH", f"{VIDEOS}/{world.video}", b'{"title": "' + b"t" * (70 * 1024) + b'"}', (413, 422)),
        ("PATCH", f"{VIDEOS}/{world.video}", deep, (400, 422)),
        ("POST", "/api/v1/users", b"{" + b'"a": 1, ' * 200_000 + b'"email": "x@example.com"}', (400, 422)),
    ]
    for method, path, body, statuses in cases:
        world.cases += 1
        headers = {**world.admin, "Content-Type": "application/json"}
        refused = problem(await client.request(method, path, content=body, headers=headers), *statuses)
        if refused["status"] == 413:
            assert refused["code"] == "payload_too_large", refused  # not a file: not `file_too_large`


async def test_very_long_strings_are_refused(world: World) -> None:
    client, long = world.client, "x" * 20_000
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/v1/organizations", {"json": {"name": long, "admin_email": "a@b.co", "admin_password": long}}),
        ("POST", "/api/v1/auth/login", {"json": {"organization": long, "email": long, "password": long}}),
        ("POST", "/api/v1/auth/refresh", {"json": {"refresh_token": long}}),
        ("POST", "/api/v1/users", {"json": {"email": f"{long}@example.com", "password": "long enough"}}),
        ("PATCH", f"{VIDEOS}/{world.video}", {"json": {"title": long}}),
        ("PATCH", f"{VIDEOS}/{world.video}", {"json": {"description": long}}),
        ("GET", f"{VIDEOS}?q={long}", {}),
        ("GET", f"/api/v1/users?q={long}", {}),
        ("GET", f"{VIDEOS}/{world.video}/stream?token={long}", {}),
        ("PUT", "/api/v1/users/me/password", {"json": {"current_password": long, "new_password": long}}),
    ]
    for method, path, extra in requests:
        world.cases += 1
        answer = await client.request(method, path, headers=world.admin, **extra)
        problem(answer, 401, 413, 422)
    world.cases += 1
    problem(await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {long}"}), 401)


async def test_text_that_is_not_utf8_is_refused(world: World) -> None:
    client = world.client
    headers = {**world.admin, "Content-Type": "application/json"}
    bodies = [b'{"name": "\xff\xfe", "admin_email": "a@b.co", "admin_password": "password1"}', b"\xff\xfe\xfd"]
    for body in bodies:
        world.cases += 1
        problem(await client.post("/api/v1/organizations", content=body, headers=headers), 400, 422)
    world.cases += 1
    problem(await client.patch(f"{VIDEOS}/{world.video}", content=b'{"title": "\xc3\x28"}', headers=headers), 400, 422)
    world.cases += 1
    latin1 = await client.get("/api/v1/users/me", headers=[(b"Authorization", b"Bearer caf\xe9")])
    problem(latin1, 401)
    for query in ("q=%FF%FE", "q=%C3%28", "limit=%FF"):
        world.cases += 1
        answer = await client.get(f"{VIDEOS}?{query}", headers=world.admin)
        assert answer.status_code in (200, 400, 422), f"{query}: {answer.text}"
        if answer.status_code != 200:
            problem(answer, 400, 422)


async def test_pagination_out_of_bounds_is_refused(world: World) -> None:
    bad = ["limit=0", "limit=-1", "limit=101", f"limit={10**20}", "limit=abc", "limit=", "limit=1.5"]
    bad += ["offset=-1", f"offset={10**10}", f"offset={10**30}", "offset=x", "offset=1.5"]
    lists = [
        VIDEOS,
        "/api/v1/users",
        "/api/v1/users/me/points",
        f"{VIDEOS}/deleted",
        "/api/v1/organizations/me/subscriptions",
    ]
    for path in lists:
        for query in bad:
            world.cases += 1
            problem(await world.client.get(f"{path}?{query}", headers=world.admin), 400, 422)
        edge = expect(await world.client.get(f"{path}?limit=100&offset={10**9}", headers=world.admin), 200)
        assert (edge["items"], edge["limit"], edge["offset"]) == ([], 100, 10**9)


# --- ranges ----------------------------------------------------------------------------------


async def test_absurd_ranges_get_a_valid_answer(world: World) -> None:
    stream = f"{VIDEOS}/{world.video}/stream"
    size = len(world.sample)
    ranges = [
        "bytes=" + ",".join(f"{i}-{i}" for i in range(1000)),
        "bytes=" + "0-1," * 100_000 + "0-1",
        "bytes=99999999999999999999999999999-",
        "bytes=-99999999999999999999999999999",
        "bytes=9223372036854775807-",
        "bytes=-9223372036854775808",
        f"bytes={size}-",
        f"bytes={size * 1000}-{size * 2000}",
        "bytes=-0",
        "bytes=5-1",
        "bytes=--1",
        "bytes=0-0-0",
        "bytes=abc",
        "bytes= 1 - 2 ",
        "items=0-10",
        "bytes=0-10\x00",
        "bytes=\u00e9",
        "",
        "=" * 10_000,
    ]
    for value in ranges:
        world.cases += 1
        try:
            answer = await world.client.get(stream, headers={**world.tenant.member.headers, "Range": value})
        except UnicodeEncodeError:
            continue  # not sendable as a header at all
        _assert_valid_range_answer(answer, size, value)


def _assert_valid_range_answer(answer: httpx.Response, size: int, value: str) -> None:
    label = f"Range: {value[:40]!r}"
    assert answer.status_code in (200, 206, 416), f"{label}: {answer.status_code} {answer.text[:200]}"
    if answer.status_code == 200:
        assert len(answer.content) == size == int(answer.headers["content-length"]), label
    elif answer.status_code == 206:
        unit, _, span = answer.headers["content-range"].partition(" ")
        first, last = (int(n) for n in span.split("/")[0].split("-"))
        assert unit == "bytes", label
        assert 0 <= first <= last < size, label
        assert len(answer.content) == last - first + 1, label
    else:
        assert answer.headers["content-range"] == f"bytes */{size}", label


async def _ready_videos(world: World) -> set[str]:
    listed = expect(await world.client.get(f"{VIDEOS}?limit=100", headers=world.admin), 200)
    deleted = expect(await world.client.get(f"{VIDEOS}/deleted?limit=100", headers=world.admin), 200)
    return {v["id"] for v in _items(listed, deleted) if v["status"] == "ready"}


def _items(*pages: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for page in pages:
        yield from page["items"]
