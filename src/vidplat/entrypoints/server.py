"""uvicorn's HTTP protocol with bounded request heads: a directly exposed `vidplat serve` answers 431.

Neither uvicorn nor httptools bounds the request line and headers, so a client could make the
server buffer a 4 MiB bearer token or thousands of header lines. This counts the head's bytes as
they are parsed, bounds what the parser may buffer of an unfinished line, and answers
`431 headers_too_large` as a problem document, closing the connection, past either bound.
"""

from __future__ import annotations

from typing import Any

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Generous for any browser or API client (nginx's defaults allow 4 lines of 8 KiB), small for an attacker.
MAX_HEAD_BYTES = 32 * 1024
MAX_HEADERS = 100
# What the parser may buffer of a head before its lines are complete (one unfinished, huge header
# line): counted per received chunk, which may also hold a pipelined request's tail, hence loose.
MAX_PENDING_BYTES = 512 * 1024
PROTOCOL = f"{__name__}:HeadLimitedProtocol"  # uvicorn's `http` option: importable in every worker

_BODY = msgspec.json.encode(
    {
        "type": "https://vidplat.dev/problems/headers-too-large",
        "title": "Request Header Fields Too Large",
        "status": 431,
        "detail": f"The request line and headers must stay within {MAX_HEAD_BYTES} bytes and {MAX_HEADERS} fields.",
        "code": "headers_too_large",
    }
)


class _HeadTooLarge(Exception):
    """Raised inside a parser callback: httptools reports it as a parser error, answered with 431."""


class HeadLimitedProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._pending_bytes = 0  # received while the head was still incomplete (the parser's buffer)
        self._head_bytes = 0  # parsed so far: request target and header lines
        self._header_count = 0
        self._too_large = False

    def data_received(self, data: bytes) -> None:
        # Checked before parsing more: the parser would otherwise buffer an unbounded header
        # line until it ends. A chunk that completes the head may carry body bytes: not counted.
        # The exact bounds are enforced on the parsed lines (_count).
        if self._in_head and self._pending_bytes > MAX_PENDING_BYTES:
            self._too_large = True
            self.send_400_response("request head too large")
            return
        super().data_received(data)
        if self._in_head:
            self._pending_bytes += len(data)

    def on_message_begin(self) -> None:
        self._in_head = True
        self._pending_bytes = self._head_bytes = self._header_count = 0
        super().on_message_begin()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._too_large:
            super().send_400_response(msg)
            return
        if self.transport.is_closing():
            return
        head = [
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
            *(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers),
            b"content-type: application/problem+json\r\n",
            b"content-length: " + str(len(_BODY)).encode() + b"\r\n",
            b"connection: close\r\n\r\n",
        ]
        self.transport.write(b"".join(head) + _BODY)
        self.transport.close()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > MAX_HEAD_BYTES or self._header_count > MAX_HEADERS:
            self._too_large = True
            raise _HeadTooLarge  # uvicorn catches the parser's error and calls send_400_response
