"""Access, refresh and playback tokens that must not work: forged, expired, early, swapped or revoked."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import pytest_asyncio

from tests.clock import ShiftableClock
from tests.hardening.actors import (
    PASSWORD,
    PROBLEM_JSON,
    Account,
    Tenant,
    add_ready_video,
    add_user,
    expect,
    login,
    sign_up,
)
from tests.hardening.report import record
from tests.hardening.wiring import JWT_SECRET, Api, Backend, saq_worker, serving
from vidplat.domain.videos.delivery import SEGMENT_GRACE

pytestmark = pytest.mark.asyncio(loop_scope="module")

ME = "/api/v1/users/me"


@dataclass(frozen=True, slots=True)
class World:
    wiring: str
    api: Api
    clock: ShiftableClock
    tenant: Tenant
    videos: list[str]

    @property
    def client(self) -> httpx.AsyncClient:
        return self.api.client

    async def new_member(self) -> Account:
        return await add_user(self.client, self.tenant)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(backend: Backend, sample_mp4: bytes) -> AsyncIterator[World]:
    clock = ShiftableClock()
    async with serving(backend, clock=clock) as api, saq_worker(backend):
        tenant = await sign_up(api.client)
        videos = [await add_ready_video(api.client, tenant, sample_mp4) for _ in range(2)]
        yield World(backend.wiring.value, api, clock, tenant, videos)


@pytest.fixture
def clock(world: World) -> Iterator[ShiftableClock]:
    """The app's clock, put back after each test."""
    offset = world.clock.offset
    yield world.clock
    world.clock.offset = offset


async def assert_refused(client: httpx.AsyncClient, token: str, path: str = ME) -> None:
    response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, f"{token[:40]}...: {response.text}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["code"] == "invalid_token"


def claims_of(token: str) -> dict[str, Any]:
    payload: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return payload


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: str = "") -> str:
    def segment(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{segment(header)}.{segment(claims)}.{signature}"


def signed(claims: dict[str, Any], *, key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # weak keys are the point
async def test_tokens_without_a_valid_signature_are_refused(world: World) -> None:
    member = await world.new_member()
    await _assert_accepted(world.client, member.access_token)
    claims = claims_of(member.access_token)
    forged = [
        *(unsigned({"alg": alg, "typ": "JWT"}, claims) for alg in ("none", "None", "NONE", "nOnE")),
        unsigned({"alg": "none"}, claims, signature=member.access_token.rsplit(".", 1)[1]),
        signed(claims, key="another-secret-of-the-same-length-xxxxxxxxxx"),
        signed(claims, key=JWT_SECRET, algorithm="HS512"),  # the algorithm is pinned, not read from the token
        signed({**claims, "role": "admin"}, key="guess"),
        _with_claims(member.access_token, {**claims, "role": "admin"}),  # payload edited, signature kept
        member.access_token[:-2] + ("AA" if not member.access_token.endswith("AA") else "BB"),
        member.access_token + ".extra",
        "",
        "not.a.jwt",
    ]
    for token in forged:
        if token:
            await assert_refused(world.client, token)
    forgeries = len(forged) - 1
    record("tokens", f"[{world.wiring}] {forgeries} forged access tokens (alg none, wrong key, edited...) -> 401")


async def test_access_tokens_expire(world: World, clock: ShiftableClock) -> None:
    member = await world.new_member()
    lifetime = timedelta(seconds=world.api.container.settings.auth.access_ttl_seconds)
    clock.advance(lifetime - timedelta(seconds=5))
    await _assert_accepted(world.client, member.access_token)
    clock.advance(timedelta(seconds=6))
    await assert_refused(world.client, member.access_token)
    now = int(clock.now().timestamp())
    claims = claims_of(member.access_token)
    await assert_refused(world.client, signed({**claims, "iat": now - 7200, "exp": now - 3600}))


async def test_tokens_issued_in_the_future_are_refused(world: World, clock: ShiftableClock) -> None:
    member = await world.new_member()
    now = int(clock.now().timestamp())
    claims = claims_of(member.access_token)
    await assert_refused(world.client, signed({**claims, "iat": now + 3600, "exp": now + 7200}))
    clock.advance(timedelta(hours=1))
    early = await login(world.client, world.tenant.slug, member.email)
    clock.advance(-timedelta(hours=1))
    await assert_refused(world.client, early.access_token)  # not valid yet: iat is beyond the allowed skew


async def test_refresh_and_access_tokens_cannot_stand_in_for_each_other(world: World) -> None:
    member = await world.new_member()
    await assert_refused(world.client, member.refresh_token)
    answer = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": member.access_token})
    assert answer.status_code == 401, answer.text
    assert answer.json()["code"] == "invalid_token"
    claims = claims_of(member.access_token)
    await assert_refused(world.client, signed({**claims, "typ": "refresh"}))
    # Neither attempt spent or revoked anything.
    await _assert_accepted(world.client, member.access_token)
    expect(await world.client.post("/api/v1/auth/refresh", json={"refresh_token": member.refresh_token}), 200)


async def test_a_deleted_users_tokens_and_playback_urls_stop_working(world: World) -> None:
    member = await world.new_member()
    grant = await _playback(world.client, member, world.videos[0])
    expect(await world.client.get(grant["url"]), 200)
    deleted = await world.client.delete(f"/api/v1/users/{member.user_id}", headers=world.tenant.admin.headers)
    assert deleted.status_code == 204
    await assert_refused(world.client, member.access_token)
    refresh = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": member.refresh_token})
    assert refresh.status_code == 401
    assert (await world.client.get(grant["url"])).status_code == 401
    body = {"organization": world.tenant.slug, "email": member.email, "password": PASSWORD}
    assert (await world.client.post("/api/v1/auth/login", json=body)).json()["code"] == "invalid_credentials"


async def test_logout_ends_that_session_only(world: World) -> None:
    first = await world.new_member()
    second = await login(world.client, world.tenant.slug, first.email)
    expect(await world.client.post("/api/v1/auth/logout", headers=first.headers), 204)
    await assert_refused(world.client, first.access_token)
    refresh = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": first.refresh_token})
    assert refresh.status_code == 401
    await _assert_accepted(world.client, second.access_token)
    expect(await world.client.post("/api/v1/auth/refresh", json={"refresh_token": second.refresh_token}), 200)


async def test_a_password_change_ends_every_other_session(world: World) -> None:
    current = await world.new_member()
    other = await login(world.client, world.tenant.slug, current.email)
    body = {"current_password": PASSWORD, "new_password": "a whole new passphrase"}
    expect(await world.client.put(f"{ME}/password", json=body, headers=current.headers), 204)
    await _assert_accepted(world.client, current.access_token)
    await assert_refused(world.client, other.access_token)
    refresh = await world.client.post("/api/v1/auth/refresh", json={"refresh_token": other.refresh_token})
    assert refresh.status_code == 401
    old = {"organization": world.tenant.slug, "email": current.email, "password": PASSWORD}
    assert (await world.client.post("/api/v1/auth/login", json=old)).status_code == 401
    await login(world.client, world.tenant.slug, current.email, "a whole new passphrase")


async def test_a_playback_url_is_bound_to_its_video(world: World) -> None:
    member = await world.new_member()
    mine, other = world.videos
    url = (await _playback(world.client, member, mine))["url"]
    token = httpx.URL(url).params["token"]
    expect(await world.client.get(url, headers={"Range": "bytes=0-9"}), 206)
    swapped = [
        f"/api/v1/videos/{other}/stream?token={token}",
        f"/api/v1/videos/{mine}/stream?token={token[:-2]}{'AA' if not token.endswith('AA') else 'BB'}",
        f"/api/v1/videos/{mine}/stream?token={token}.",
        f"/api/v1/videos/{other}/thumbnail?token={token}",
        f"/api/v1/videos/{other}/hls/master.m3u8?token={token}",
        f"/api/v1/videos/{mine}?token={token}",  # only the playback routes take playback grants
    ]
    for attempt in swapped:
        assert (await world.client.get(attempt)).status_code == 401, attempt
    await assert_refused(world.client, token)  # a playback grant is not a bearer token


async def test_a_playback_grant_starts_a_view_until_it_expires_and_the_view_lasts_the_video_plus_the_grace(
    world: World, clock: ShiftableClock
) -> None:
    member = await world.new_member()
    video = world.videos[0]
    grant = await _playback(world.client, member, video)
    expires_at = datetime.fromisoformat(grant["expires_at"])
    assert expires_at < datetime.now(UTC) + timedelta(hours=1)  # short-lived
    clock.advance(expires_at - clock.now() - timedelta(seconds=2))
    expect(await world.client.get(grant["thumbnail_url"]), 200)
    clock.advance(timedelta(seconds=3))
    for late in (grant["thumbnail_url"], grant["hls_url"]):  # too late to start
        expired = await world.client.get(late)
        assert expired.status_code == 401
        assert expired.json()["code"] == "invalid_token"
    expect(await world.client.get(grant["url"], headers={"Range": "bytes=0-9"}), 206)  # a view under way goes on
    duration = expect(await world.client.get(f"/api/v1/videos/{video}", headers=member.headers), 200)
    clock.advance(timedelta(seconds=duration["duration_seconds"]) + SEGMENT_GRACE)
    assert (await world.client.get(grant["url"])).json()["code"] == "invalid_token"


async def _assert_accepted(client: httpx.AsyncClient, token: str) -> None:
    expect(await client.get(ME, headers={"Authorization": f"Bearer {token}"}), 200)


async def _playback(client: httpx.AsyncClient, member: Account, video: str) -> dict[str, Any]:
    return expect(await client.post(f"/api/v1/videos/{video}/playback", headers=member.headers), 200)


def _with_claims(token: str, claims: dict[str, Any]) -> str:
    header, _, signature = token.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{payload}.{signature}"
