"""A minimal HTTP/1.1 client on asyncio streams.

The credit burst must measure the server, not the client: a general-purpose client spends
more CPU per request than the loopback server on this 2-core machine can spare. This one
keeps a connection alive, writes a request in one call and parses just enough to frame
the response (Content-Length or chunked).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

READ_CHUNK = 1024 * 1024


class HttpError(Exception):
    """An answer other than the expected status; carries the body for the message."""


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    received: int  # body bytes read, also when they were discarded

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection; not safe for concurrent requests (use one per task)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
        keep_body: bool = True,
    ) -> Response:
        head = _head(method, path, self.host, headers or {}, len(body) if body or method in {"POST", "PUT"} else None)
        reader, writer = await self._open()
        writer.write(head + body)
        return await self._answer(reader, writer, method, keep_body=keep_body)

    async def send_stream(
        self, method: str, path: str, *, headers: Mapping[str, str], chunks: AsyncIterator[bytes], length: int
    ) -> Response:
        """A request whose body is produced chunk by chunk, with a known total length."""
        reader, writer = await self._open()
        writer.write(_head(method, path, self.host, headers, length))
        async for chunk in chunks:
            writer.write(chunk)
            await writer.drain()  # back-pressure: never more than a chunk or two buffered here
        return await self._answer(reader, writer, method, keep_body=True)

    async def cut(self, method: str, path: str, headers: Mapping[str, str], length: int, sent: bytes) -> None:
        """Announce `length` body bytes, send only `sent`, and drop the connection: a network failure mid-body."""
        _, writer = await self._open()
        writer.write(_head(method, path, self.host, headers, length) + sent)
        await writer.drain()
        writer.transport.abort()  # a reset, not a polite close
        self._reader = self._writer = None

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._reader = self._writer = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None or self._writer.is_closing():
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port, limit=READ_CHUNK)
        return self._reader, self._writer

    async def _answer(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, *, keep_body: bool
    ) -> Response:
        await writer.drain()
        status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        body, received = await _read_body(reader, headers, keep_body, head_only=method == "HEAD")
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Response(status, headers, body, received)


def _head(method: str, path: str, host: str, headers: Mapping[str, str], length: int | None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    status_line, *lines = raw.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers


async def _read_body(
    reader: asyncio.StreamReader, headers: Mapping[str, str], keep: bool, *, head_only: bool
) -> tuple[bytes, int]:
    if head_only:
        return b"", 0
    if headers.get("transfer-encoding", "").lower() == "chunked":
        parts = bytearray()
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts += await reader.readexactly(size + 2)  # the chunk and its CRLF
            del parts[-2:]
        await reader.readuntil(b"\r\n")  # no trailers are expected
        return (bytes(parts) if keep else b""), len(parts)
    remaining = int(headers.get("content-length", "0"))
    if keep:
        return await reader.readexactly(remaining), remaining
    received = 0
    while received < remaining:
        chunk = await reader.read(min(READ_CHUNK, remaining - received))
        if not chunk:
            raise asyncio.IncompleteReadError(b"", remaining - received)
        received += len(chunk)
    return b"", received


class Api:
    """JSON calls on fresh connections: the control plane of the harness (seeding, polling)."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port

    async def call(
        self, method: str, path: str, *, token: str | None = None, payload: Any = None, expect: int = 200
    ) -> Any:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = b""
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        conn = Connection(self.host, self.port)
        try:
            answer = await conn.request(method, path, headers=headers, body=body)
        finally:
            await conn.close()
        if answer.status != expect:
            raise HttpError(f"{method} {path}: {answer.status} {answer.body[:500]!r}")
        return answer.json() if answer.body else None
