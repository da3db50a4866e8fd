"""Adapting a streamed multipart request to the upload use cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from litestar import Request

from vidplat.domain.errors import InvalidInput, PayloadTooLarge
from vidplat.entrypoints.http.multipart import FilePart, MalformedForm, read_form
from vidplat.entrypoints.http.text import checked

# Room for the multipart envelope and text fields around the file itself.
FORM_OVERHEAD_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class UploadForm:
    title: str | None
    description: str | None
    file: FilePart | None


async def read_upload(request: Request[Any, Any, Any], max_file_bytes: int) -> UploadForm:
    """The text fields that precede the file, and the file as a stream; nothing is buffered."""
    announced = request.headers.get("content-length")
    if announced and announced.isdigit() and int(announced) > max_file_bytes + FORM_OVERHEAD_BYTES:
        raise PayloadTooLarge
    try:
        fields, file = await read_form(request.stream(), request.headers.get("content-type", ""))
    except MalformedForm as exc:
        raise InvalidInput("body", str(exc)) from None
    if file is not None and file.filename == "":
        # A browser sends an empty file input as a nameless, empty part: metadata only.
        if await _has_bytes(file.chunks):
            raise InvalidInput("file", "must have a file name")
        file = None
    if file is not None:
        file = FilePart(file.field, file.filename, file.content_type, _translated(file.chunks))
    return UploadForm(
        title=checked(fields.get("title"), "title"),
        description=checked(fields.get("description"), "description", multiline=True),
        file=file,
    )


async def _has_bytes(chunks: AsyncIterator[bytes]) -> bool:
    """Drain a part expected to be empty; True if it was not."""
    found = False
    async for chunk in _translated(chunks):
        found = found or bool(chunk)
    return found


async def _translated(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    except MalformedForm as exc:
        raise InvalidInput("body", str(exc)) from None
