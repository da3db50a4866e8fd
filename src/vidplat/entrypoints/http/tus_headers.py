"""tus 1.0.0 on the wire: the protocol's headers, Upload-Metadata parsing, and the headers every response carries."""

from __future__ import annotations

import base64
import binascii
from email.utils import format_datetime
from typing import Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

from vidplat.domain.errors import InvalidInput
from vidplat.entrypoints.http.problems import Problem, problem

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,creation-with-upload,termination,expiration"
OFFSET_OCTET_STREAM = "application/offset+octet-stream"
UPLOADS_PATH = "/api/v1/uploads"
MAX_DIGITS = 19  # a signed 64-bit column holds any 19-digit number
# What a browser's tus client must be allowed to read from cross-origin responses.
EXPOSED_HEADERS = [
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Expires",
    "Upload-Metadata",
    "Video-Id",
]


async def add_tus_resumable(message: Message, scope: Scope) -> None:
    """before_send hook: Tus-Resumable on every response under /api/v1/uploads, errors included."""
    if message["type"] == "http.response.start" and str(scope.get("path", "")).startswith(UPLOADS_PATH):
        MutableScopeHeaders.from_message(message)["Tus-Resumable"] = TUS_VERSION


class TusRefusal(Exception):
    """A request the protocol refuses before any use case runs; carries its problem response."""

    def __init__(self, response: Response[Problem]) -> None:
        super().__init__(response.content.detail)
        self.response = response


def refused(_: Request[Any, Any, Any], exc: TusRefusal) -> Response[Problem]:
    return exc.response


def require_tus(request: Request[Any, Any, Any]) -> None:
    """412 unless the request speaks tus 1.0.0."""
    if request.headers.get("tus-resumable") != TUS_VERSION:
        detail = f"Send Tus-Resumable: {TUS_VERSION}, the only version this server speaks."
        raise TusRefusal(problem(412, "tus_version_unsupported", detail, headers={"Tus-Version": TUS_VERSION}))


def is_offset_stream(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == OFFSET_OCTET_STREAM


def require_offset_stream(request: Request[Any, Any, Any]) -> None:
    if not is_offset_stream(request):
        detail = f"A PATCH body must be {OFFSET_OCTET_STREAM}."
        raise TusRefusal(problem(415, "unsupported_content_type", detail))


def number_header(request: Request[Any, Any, Any], name: str) -> int:
    raw = request.headers.get(name)
    if raw is None:
        raise InvalidInput(name, "is required")
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_DIGITS:
        raise InvalidInput(name, "must be a non-negative integer")
    return int(raw)


def metadata(raw: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64value` pairs (the value may be absent)."""
    pairs: dict[str, str] = {}
    for item in (raw or "").split(","):
        key, _, encoded = item.strip().partition(" ")
        if not key:
            continue
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput("Upload-Metadata", f"`{key}` is not base64 of UTF-8 text") from None
    return pairs


def http_date(value: Any) -> str:
    return format_datetime(value, usegmt=True)
