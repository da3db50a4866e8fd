"""`vidplat serve` with JSON logs, as an operator runs it: every line one object, ids bound, no token."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from tests.api.conftest import CHEAP_ARGON2
from tests.hardening.servers import free_port
from tests.media import make_mp4

START_POLLS = 300  # x 0.1 s: a bound that a healthy machine never reaches
PASSWORD = "correct horse battery"


async def _until_up(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    for _ in range(START_POLLS):
        assert server.poll() is None, "vidplat serve exited"
        try:
            if (await client.get("/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("vidplat serve did not answer /health")


async def _ready(client: httpx.AsyncClient, video_id: str, auth: dict[str, str]) -> None:
    for _ in range(START_POLLS):
        if (await client.get(f"/api/v1/videos/{video_id}", headers=auth)).json()["status"] == "ready":
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the video never became ready")


async def _session(client: httpx.AsyncClient, media: bytes) -> dict[str, Any]:
    """Sign up, upload (with a request id), wait until ready, stream by a signed URL; what the client saw."""
    signup = await client.post(
        "/api/v1/organizations",
        json={"name": "Logged", "admin_email": "admin@example.com", "admin_password": PASSWORD},
    )
    login = await client.post(
        "/api/v1/auth/login",
        json={"organization": signup.json()["slug"], "email": "admin@example.com", "password": PASSWORD},
    )
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    upload = await client.post(
        "/api/v1/videos",
        data={"title": "Clip"},
        files={"file": ("clip.mp4", media, "video/mp4")},
        headers={**auth, "X-Request-ID": "upload-served-1"},
    )
    assert upload.status_code == 202, upload.text
    video_id = upload.json()["id"]
    await _ready(client, video_id, auth)
    playback = (await client.post(f"/api/v1/videos/{video_id}/playback", headers=auth)).json()
    stream = await client.get(playback["url"], headers={"Range": "bytes=0-99"})
    assert stream.status_code == 206
    # The HLS routes and the thumbnail take the start token in their URL too (this video has no renditions: 404).
    for url in (playback["hls_url"], playback["hls_url"].replace("master.m3u8", "240p/seg_00000.m4s")):
        assert (await client.get(url)).status_code == 404
    assert (await client.get(playback["thumbnail_url"])).status_code == 200
    return {
        "video_id": video_id,
        "token": playback["url"].partition("token=")[2],
        "start_token": playback["hls_url"].partition("token=")[2],
        "access_token": login.json()["access_token"],
        "stream_request_id": stream.headers["x-request-id"],
    }


async def test_serve_writes_one_json_object_per_line_with_request_ids_and_no_token(tmp_path: Path) -> None:
    port = free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("VIDPLAT_")}
    env |= {**CHEAP_ARGON2, "VIDPLAT_DATA_DIR": str(tmp_path / "data"), "VIDPLAT_LOG_FORMAT": "json"}
    log_path = tmp_path / "serve.log"
    media = make_mp4(tmp_path / "clip.mp4").read_bytes()
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603, ASYNC220 - this interpreter, fixed arguments; polled below
            [sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                await _until_up(client, server)
                seen = await _session(client, media)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)

    text = log_path.read_text()
    assert seen["token"]
    assert seen["token"] not in text
    assert seen["start_token"] not in text
    assert text.count("token=[redacted]") >= 4  # the stream, both HLS requests and the thumbnail
    assert seen["access_token"] not in text
    lines = [json.loads(line) for line in text.splitlines()]  # every line, uvicorn's included
    assert {line["logger"] for line in lines} >= {"uvicorn.error", "uvicorn.access", "vidplat.events"}
    assert all("timestamp" in line and "level" in line for line in lines)
    upload = [line for line in lines if line.get("request_id") == "upload-served-1"]
    assert {line.get("domain_event") for line in upload} >= {"upload_accepted", "video_ready"}
    assert any(line["logger"] == "uvicorn.access" and "POST /api/v1/videos " in line["event"] for line in upload)
    (stream,) = [line for line in lines if line.get("request_id") == seen["stream_request_id"]]
    assert stream["logger"] == "uvicorn.access"
    assert "token=[redacted]" in stream["event"]
