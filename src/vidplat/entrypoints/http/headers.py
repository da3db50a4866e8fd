"""Security headers on every HTTP response: a plain ASGI middleware around the whole application.

It wraps the app's ASGI handler rather than being listed in Litestar's `middleware=`, which
runs per route: unrouted 404/405 answers and CORS preflights then get the headers as well.
Only the response-start message is touched, so streamed bodies pass through untouched.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from litestar.enums import ScopeType

from vidplat.entrypoints.http.ops import OPS_PATH, OPS_SCRIPT

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

Headers = list[tuple[bytes, bytes]]

# The JSON API and media: nothing in a response may load, run, frame or submit anything.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and Scalar are served by vidplat itself (docs.py), scripts from files only; both inject
# styles. Nothing may be fetched from another host: the pages work offline and leak nothing.
DOCS_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
    "connect-src 'self'; worker-src 'self' blob:"
)


def _script_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


# SAQ's monitor serves its own assets; its one inline script is allowed by hash, not by 'unsafe-inline'.
OPS_POLICY = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    f"script-src 'self' {_script_hash(OPS_SCRIPT)}; style-src 'self'; img-src 'self' data:; connect-src 'self'"
)

_COMMON: Headers = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # Playback URLs carry their grant in the query string: never hand it to another site.
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    # Responses are per caller; a handler that allows caching (media: private) says so itself.
    (b"cache-control", b"no-store"),
]


class SecurityHeaders:
    """Adds the headers a handler did not set itself, and drops any `server` header."""

    def __init__(self, app: ASGIApp, *, docs_path: str = "/docs", ops_path: str = OPS_PATH) -> None:
        self.app = app
        self._docs = docs_path.rstrip("/")
        self._ops = ops_path.rstrip("/")
        self._api_headers = _with_policy(API_POLICY)
        self._docs_headers = _with_policy(DOCS_POLICY)
        self._ops_headers = _with_policy(OPS_POLICY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        extra = self._headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(name, value) for name, value in message.get("headers", ()) if name.lower() != b"server"]
                present = {name.lower() for name, _ in headers}
                headers += [header for header in extra if header[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers_for(self, path: str) -> Headers:
        if _under(path, self._docs):
            return self._docs_headers
        if _under(path, self._ops):
            return self._ops_headers
        return self._api_headers


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(f"{prefix}/")


def _with_policy(policy: str) -> Headers:
    return [(b"content-security-policy", policy.encode()), *_COMMON]
