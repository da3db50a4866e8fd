"""Uploading a file through POST /api/v1/videos as a streamed multipart body, and waiting for it."""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, BinaryIO

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


TUS_CHUNK = 8 * MIB
TUS = {"Tus-Resumable": "1.0.0"}


async def tus_create(port: int, token: str, size: int, title: str) -> str:
    """A new tus upload's path."""
    metadata = "title " + base64.b64encode(title.encode()).decode()
    headers = {"Authorization": f"Bearer {token}", **TUS, "Upload-Length": str(size), "Upload-Metadata": metadata}
    conn = Connection("127.0.0.1", port)
    try:
        answer = await conn.request("POST", "/api/v1/uploads", headers=headers, body=b"")
    finally:
        await conn.close()
    if answer.status != 201:  # noqa: PLR2004 - tus creation
        raise HttpError(f"tus creation: {answer.status} {answer.body[:500]!r}")
    return answer.headers["location"]


async def tus_offset(port: int, token: str, upload: str) -> int:
    conn = Connection("127.0.0.1", port)
    try:
        answer = await conn.request("HEAD", upload, headers={"Authorization": f"Bearer {token}", **TUS})
    finally:
        await conn.close()
    return int(answer.headers["upload-offset"])


async def tus_send(
    port: int, token: str, upload: str, path: Path, offset: int, *, chunk: int = TUS_CHUNK, stop_at: int | None = None
) -> str | None:
    """PATCH the file from `offset` in `chunk`-sized requests on one connection: the Video-Id at the end.

    With `stop_at`, the PATCH that would go past that byte is cut off there (its connection closed
    mid-body, as a dropped network would) and None is returned.
    """
    size = (await asyncio.to_thread(path.stat)).st_size
    headers = {"Authorization": f"Bearer {token}", **TUS, "Content-Type": "application/offset+octet-stream"}
    conn = Connection("127.0.0.1", port)
    try:
        with path.open("rb") as file:
            while offset < size:
                length = min(chunk, size - offset)
                await asyncio.to_thread(file.seek, offset)
                if stop_at is not None and offset + length > stop_at:
                    await conn.cut(
                        "PATCH",
                        upload,
                        headers | {"Upload-Offset": str(offset)},
                        length,
                        await asyncio.to_thread(file.read, stop_at - offset),
                    )
                    return None
                body = _file_chunks(file, length)
                answer = await conn.send_stream(
                    "PATCH", upload, headers=headers | {"Upload-Offset": str(offset)}, chunks=body, length=length
                )
                if answer.status != 204:  # noqa: PLR2004 - tus: bytes stored
                    raise HttpError(f"tus PATCH at {offset}: {answer.status} {answer.body[:500]!r}")
                offset = int(answer.headers["upload-offset"])
                if "video-id" in answer.headers:
                    return answer.headers["video-id"]
    finally:
        await conn.close()
    raise HttpError("the last PATCH answered without a Video-Id")


async def tus_upload(port: int, token: str, path: Path, title: str) -> str:
    """The id of the video a tus upload of the file (TUS_CHUNK per PATCH) became."""
    upload = await tus_create(port, token, (await asyncio.to_thread(path.stat)).st_size, title)
    video_id = await tus_send(port, token, upload, path, 0)
    if video_id is None:
        raise HttpError("the tus upload ended without a video")
    return video_id


async def _file_chunks(file: BinaryIO, length: int) -> AsyncIterator[bytes]:
    while length > 0:
        chunk = await asyncio.to_thread(file.read, min(MIB, length))
        if not chunk:
            raise HttpError("the file ended early")
        length -= len(chunk)
        yield chunk


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
