"""Uploading a file through POST /api/v1/videos as a streamed multipart body, and waiting for it."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.config import MIB
from bench.rawhttp import Api, Connection, HttpError

READY_TIMEOUT_SECONDS = 300


async def upload(port: int, token: str, path: Path, title: str, *, on_chunk: Callable[[], None] | None = None) -> Any:
    """The 202 Video of an upload streamed from disk a MiB at a time (the harness never holds the file)."""
    boundary = f"bench{secrets.token_hex(12)}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = (await asyncio.to_thread(path.stat)).st_size

    async def body() -> AsyncIterator[bytes]:
        yield head
        with path.open("rb") as file:
            while chunk := await asyncio.to_thread(file.read, MIB):
                yield chunk
                if on_chunk is not None:
                    on_chunk()
        yield tail

    headers = {"Authorization": f"Bearer {token}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    conn = Connection("127.0.0.1", port)
    try:
        answer = await conn.send_stream(
            "POST", "/api/v1/videos", headers=headers, chunks=body(), length=len(head) + size + len(tail)
        )
    finally:
        await conn.close()
    if answer.status != 202:  # noqa: PLR2004 - the API's "accepted for processing"
        raise HttpError(f"upload of {path.name}: {answer.status} {answer.body[:500]!r}")
    return answer.json()


async def wait_processed(api: Api, token: str, video_id: str, within: float = READY_TIMEOUT_SECONDS) -> Any:
    """The Video once it has left `processing` (ready or failed)."""
    deadline = time.monotonic() + within
    while True:
        video = await api.call("GET", f"/api/v1/videos/{video_id}", token=token)
        if video["status"] != "processing":
            return video
        if time.monotonic() > deadline:
            raise TimeoutError(f"video {video_id} still processing after {within:.0f} s")
        await asyncio.sleep(0.1)


async def upload_ready(port: int, token: str, path: Path, title: str) -> Any:
    """Upload and wait until ready; a failed processing is an error here (the catalog must be playable)."""
    video = await upload(port, token, path, title)
    video = await wait_processed(Api(port), token, video["id"])
    if video["status"] != "ready":
        raise RuntimeError(f"{path.name} ended {video['status']}: {video.get('failure_reason')}")
    return video
