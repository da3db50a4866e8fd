"""Request ids: the client's `X-Request-ID` when sane, else a fresh one; echoed and bound to every log line.

A plain ASGI middleware around the whole application (like the security headers), so unrouted
404s carry one too. The id lives in structlog's context variables for the request's task: every
log line of the request merges it in, uvicorn's access line included (it is written from the
response's `send`), and a job the request enqueues takes it along (see the job queues).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import uuid4

from litestar.enums import ScopeType
from structlog.contextvars import bind_contextvars, clear_contextvars

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_SANE = re.compile(rb"[A-Za-z0-9._-]{1,128}")


def request_id_of(scope: Scope) -> str:
    """The client's id if it is short and plain (no room for log injection), else a new one."""
    for name, value in scope["headers"]:
        if name == HEADER and _SANE.fullmatch(value):
            return value.decode()
    return uuid4().hex


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        header = (HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*(h for h in message.get("headers", ()) if h[0].lower() != HEADER), header]
            await send(message)

        clear_contextvars()
        bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            clear_contextvars()
