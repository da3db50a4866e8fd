"""A real tus client (tuspy) against real `vidplat serve` processes: cut connections resume, replicas share offsets."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient.client import TusClient
from tusclient.exceptions import TusCommunicationError, TusUploadFailed
from tusclient.uploader.uploader import Uploader

from tests.integration.cutting_proxy import CuttingProxy
from tests.integration.serve_process import serve, sign_up
from tests.media import make_mp4
from tests.s3 import S3Service
from tests.services import throwaway_database
from vidplat.adapters.sql.migrate import run_migrations

MIB = 1024 * 1024
CHUNK = 5 * MIB
MAX_ATTEMPTS = 10
MAX_POLLS = 1200
TUS = {"Tus-Resumable": "1.0.0"}


def _video_of_size(tmp_path: Path, size: int) -> bytes:
    """A real MP4 grown to `size` by a trailing `free` box of random bytes, which players skip."""
    mp4 = make_mp4(tmp_path / "clip.mp4").read_bytes()
    padding = size - len(mp4)
    return mp4 + padding.to_bytes(4, "big") + b"free" + os.urandom(padding - 8)


def _upload_with_resumes(endpoint: str, auth: dict[str, str], data: bytes, url: str | None) -> tuple[Uploader, int]:
    """Upload in CHUNK-sized PATCHes, resuming from the server's offset (HEAD) after each failure."""
    client = TusClient(endpoint, headers=auth)
    uploader = client.uploader(file_stream=io.BytesIO(data), url=url, chunk_size=CHUNK, metadata={"title": "Fifty"})
    failures = 0
    for _ in range(MAX_ATTEMPTS):
        try:
            uploader.upload()
            return uploader, failures
        except (TusUploadFailed, TusCommunicationError):
            failures += 1
            uploader = client.uploader(file_stream=io.BytesIO(data), url=uploader.url, chunk_size=CHUNK)
    raise AssertionError(f"no complete upload after {MAX_ATTEMPTS} attempts")


def _wait_ready(base: str, auth: dict[str, str], video_id: str) -> None:
    for _ in range(MAX_POLLS):
        video = httpx.get(f"{base}/api/v1/videos/{video_id}", headers=auth).json()
        if video["status"] != "processing":
            assert video["status"] == "ready", video
            return
        time.sleep(0.05)
    raise AssertionError("the video was not processed in time")


@pytest.fixture(params=["file", "s3"])
def storage_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "file":
        return {"VIDPLAT_STORAGE_URL": (tmp_path / "media").as_uri()}
    s3: S3Service = request.getfixturevalue("s3_service")
    return s3.env()


def test_fifty_megabytes_survive_cut_connections_and_an_api_restart_byte_for_byte(
    tmp_path: Path, storage_env: dict[str, str]
) -> None:
    data = _video_of_size(tmp_path, 50 * 10**6)
    with serve(tmp_path / "data", storage_env) as port:
        auth = sign_up(f"http://127.0.0.1:{port}")
        # A cut inside the 2nd chunk (the client's byte count includes small request heads), then the API goes.
        proxy = CuttingProxy(port, cuts=[CHUNK + 2 * MIB])
        with proxy.running():
            client = TusClient(f"http://127.0.0.1:{proxy.port}/api/v1/uploads", headers=auth)
            uploader = client.uploader(file_stream=io.BytesIO(data), chunk_size=CHUNK, metadata={"title": "Fifty"})
            with pytest.raises((TusUploadFailed, TusCommunicationError)):
                uploader.upload()
        upload_path = urlsplit(str(uploader.url)).path
    # A new process on the same database and store: everything it acknowledged is still there.
    with serve(tmp_path / "data", storage_env) as port:
        base = f"http://127.0.0.1:{port}"
        head = httpx.head(f"{base}{upload_path}", headers={**auth, **TUS})
        assert CHUNK <= int(head.headers["upload-offset"]) <= CHUNK + 2 * MIB
        proxy = CuttingProxy(port, cuts=[3 * CHUNK + 3 * MIB])  # and one more cut, inside a later chunk
        with proxy.running():
            endpoint = f"http://127.0.0.1:{proxy.port}/api/v1/uploads"
            uploader, failures = _upload_with_resumes(endpoint, auth, data, f"{endpoint}/{upload_path.rsplit('/')[-1]}")
        assert proxy.cut == 1
        assert failures >= 1
        answered: dict[str, str] = getattr(uploader.request, "response_headers", {})  # the completing PATCH
        video_id = answered["video-id"]
        _wait_ready(base, auth, video_id)
        streamed = httpx.get(f"{base}/api/v1/videos/{video_id}/stream", headers=auth, timeout=60)
        assert streamed.status_code == 200
        assert hashlib.sha256(streamed.content).hexdigest() == hashlib.sha256(data).hexdigest()
        head = httpx.head(f"{base}{upload_path}", headers={**auth, **TUS})
        assert head.headers["upload-offset"] == str(len(data))


@pytest.fixture
def production_env(redis_service: tuple[str, str]) -> Iterator[dict[str, str]]:
    with throwaway_database() as url:
        run_migrations(url)
        yield {
            "VIDPLAT_DATABASE_URL": url,
            "VIDPLAT_REDIS_URL": redis_service[0],
            "VIDPLAT_REDIS_PREFIX": f"{redis_service[1]}-{secrets.token_hex(4)}",
            "VIDPLAT_JWT_SECRET": secrets.token_urlsafe(48),
            "VIDPLAT_PLAYBACK_SECRET": secrets.token_urlsafe(48),
            "VIDPLAT_ARGON2_TIME_COST": "1",
            "VIDPLAT_ARGON2_MEMORY_KIB": "1024",
            "VIDPLAT_ARGON2_PARALLELISM": "1",
        }


def test_two_api_processes_take_turns_on_one_upload(tmp_path: Path, production_env: dict[str, str]) -> None:
    media = tmp_path / "media"
    env = production_env | {"VIDPLAT_STORAGE_URL": media.as_uri()}
    data = _video_of_size(tmp_path, 6 * MIB)
    with serve(tmp_path / "one", env) as first, serve(tmp_path / "two", env) as second:
        bases = [f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"]
        auth = sign_up(bases[0])
        title = base64.b64encode(b"Shared").decode()
        created = httpx.post(
            f"{bases[0]}/api/v1/uploads",
            headers={**auth, **TUS, "Upload-Length": str(len(data)), "Upload-Metadata": f"title {title}"},
        )
        assert created.status_code == 201, created.text
        path = created.headers["location"]
        offset, turn, answer = 0, 0, httpx.Response(500)
        while offset < len(data):
            base = bases[turn % 2]
            head = httpx.head(f"{base}{path}", headers={**auth, **TUS})
            assert int(head.headers["upload-offset"]) == offset  # what the other process stored
            piece = data[offset : offset + MIB + 12345]
            headers = {**auth, **TUS, "Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}
            answer = httpx.patch(f"{base}{path}", content=piece, headers=headers, timeout=60)
            assert answer.status_code == 204, answer.text
            offset, turn = int(answer.headers["upload-offset"]), turn + 1
        assert turn >= 4
        video_id = answer.headers["video-id"]
        upload = httpx.get(f"{bases[1]}{path}", headers=auth).json()
        assert (upload["offset"], upload["video_id"]) == (len(data), video_id)
        staged = [p for p in media.rglob("*") if p.is_file() and video_id in str(p) and "/tus/" not in str(p)]
        assert [hashlib.sha256(p.read_bytes()).hexdigest() for p in staged] == [hashlib.sha256(data).hexdigest()]
