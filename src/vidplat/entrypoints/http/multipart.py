"""Streaming multipart/form-data reader: text fields into a dict, the one file part as an async byte stream."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum, auto
from typing import TYPE_CHECKING

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from python_multipart.multipart import MultipartCallbacks

_FORM_DATA = b"multipart/form-data"
_NAME_IN_MESSAGES = 64  # client-chosen names are echoed in errors, so keep them short


class MalformedForm(Exception):
    """The body is not an acceptable form; the message is safe to show to clients."""


@dataclass(frozen=True, slots=True)
class FilePart:
    """The form's file part; `chunks` streams its bytes as they arrive, and draining it completes the form."""

    field: str
    filename: str | None
    content_type: str | None
    chunks: AsyncIterator[bytes]


async def read_form(
    body: AsyncIterator[bytes],
    content_type: str,
    *,
    file_field: str = "file",
    max_parts: int = 16,
    max_field_bytes: int = 64 * 1024,
) -> tuple[dict[str, str], FilePart | None]:
    """Read a multipart/form-data body up to its file part, without ever holding the file in memory.

    Returns `(fields, file)`. Text fields are decoded as strict UTF-8. When the part named `file_field`
    starts, this returns at once with the fields seen so far and a `FilePart` whose `chunks` streams that
    part's bytes; draining `chunks` then reads the rest of the body and ADDS any later text fields into the
    same `fields` dict, so `fields` is complete only once `chunks` is exhausted. Without a file part, the
    whole body is read and `(fields, None)` returned. Raises `MalformedForm` (from here or from `chunks`)
    for a wrong content type, a missing boundary, more than `max_parts` parts, a field over
    `max_field_bytes`, a duplicate field, a second file part, invalid UTF-8 or a truncated body; exceptions
    raised by `body` itself propagate unchanged.
    """
    try:
        kind, params = parse_options_header(content_type)
    except UnicodeEncodeError:  # the parser re-encodes as latin-1; a real header always is
        raise MalformedForm("expected multipart/form-data") from None
    if kind != _FORM_DATA:
        raise MalformedForm("expected multipart/form-data")
    boundary = params.get(b"boundary")
    if not boundary:
        raise MalformedForm("missing boundary")
    reader = _FormReader(body, boundary, file_field=file_field, max_parts=max_parts, max_field_bytes=max_field_bytes)
    file = await reader.collect()
    return reader.fields, file


class _Event(Enum):
    PART_BEGIN = auto()
    HEADER_FIELD = auto()
    HEADER_VALUE = auto()
    HEADER_END = auto()
    HEADERS_FINISHED = auto()
    PART_DATA = auto()
    PART_END = auto()


class _FormReader:
    """Turns python_multipart's push callbacks into events pulled from the body one chunk at a time."""

    def __init__(
        self, body: AsyncIterator[bytes], boundary: bytes, *, file_field: str, max_parts: int, max_field_bytes: int
    ) -> None:
        self.fields: dict[str, str] = {}
        self._body = body
        self._file_field = file_field
        self._max_parts = max_parts
        self._max_field_bytes = max_field_bytes
        # Filled by one parser.write: at most one input chunk's worth of data plus a few markers.
        self._events: deque[tuple[_Event, bytes]] = deque()
        self._parts = 0
        self._complete = False  # the closing boundary was seen
        self._exhausted = False  # the body iterator ended
        self._file_seen = False
        try:
            self._parser = MultipartParser(boundary, self._callbacks())
        except FormParserError as exc:
            raise MalformedForm("invalid boundary") from exc

    async def collect(self) -> FilePart | None:
        """Store text fields until the file part starts (returned) or the body ends (None)."""
        headers: dict[str, bytes] = {}
        header_name, header_value, value = bytearray(), bytearray(), bytearray()
        name: str | None = None
        while (event := await self._next()) is not None:
            kind, data = event
            if kind is _Event.PART_BEGIN:
                headers = {}
            elif kind is _Event.HEADER_FIELD:
                header_name += data
            elif kind is _Event.HEADER_VALUE:
                header_value += data
            elif kind is _Event.HEADER_END:
                headers[header_name.decode("latin-1").lower()] = bytes(header_value)
                header_name, header_value = bytearray(), bytearray()
            elif kind is _Event.HEADERS_FINISHED:
                name, filename = _disposition(headers)
                if name == self._file_field:
                    if self._file_seen:
                        raise MalformedForm("more than one file part")
                    self._file_seen = True
                    return FilePart(name, filename, _content_type(headers), self._file_chunks())
                self._check_text_part(name, filename)
                value = bytearray()
            elif kind is _Event.PART_DATA and name is not None:
                if len(value) + len(data) > self._max_field_bytes:
                    raise MalformedForm(f"field {_quote(name)} is too long")
                value += data
            elif kind is _Event.PART_END and name is not None:
                self.fields[name] = _decode(name, value)
                name = None
        return None

    def _check_text_part(self, name: str, filename: str | None) -> None:
        if filename is not None:
            raise MalformedForm(f"unexpected file in field {_quote(name)}")
        if name in self.fields:
            raise MalformedForm(f"duplicate field {_quote(name)}")

    async def _file_chunks(self) -> AsyncIterator[bytes]:
        # Between a part's headers and its end the parser emits only PART_DATA.
        while (event := await self._next()) is not None and event[0] is not _Event.PART_END:
            yield event[1]
        # Any later part named like the file raises inside collect, so this can only return None.
        await self.collect()

    async def _next(self) -> tuple[_Event, bytes] | None:
        """The next parser event, reading more of the body as needed; None once a complete body is drained."""
        while not self._events:
            if self._exhausted:
                return None
            try:
                chunk = await anext(self._body)
            except StopAsyncIteration:
                self._exhausted = True
                if not self._complete:
                    raise MalformedForm("truncated body") from None
                return None
            try:
                # After the closing boundary the parser discards the epilogue; reading on drains the body.
                self._parser.write(chunk)
            except FormParserError as exc:
                raise MalformedForm("malformed multipart body") from exc
        return self._events.popleft()

    def _callbacks(self) -> MultipartCallbacks:
        def marker(kind: _Event) -> Callable[[], None]:
            return lambda: self._events.append((kind, b""))

        def data(kind: _Event) -> Callable[[bytes, int, int], None]:
            # bytes() of a whole bytes chunk is the same object: a file chunk passing through is not copied.
            return lambda buffer, start, end: self._events.append((kind, bytes(buffer[start:end])))

        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": data(_Event.HEADER_FIELD),
            "on_header_value": data(_Event.HEADER_VALUE),
            "on_header_end": marker(_Event.HEADER_END),
            "on_headers_finished": marker(_Event.HEADERS_FINISHED),
            "on_part_data": data(_Event.PART_DATA),
            "on_part_end": marker(_Event.PART_END),
            "on_end": self._on_end,
        }

    def _on_part_begin(self) -> None:
        # Counted while parsing, so one chunk packed with tiny parts cannot queue unbounded events.
        self._parts += 1
        if self._parts > self._max_parts:
            raise MalformedForm("too many parts")
        self._events.append((_Event.PART_BEGIN, b""))

    def _on_end(self) -> None:
        self._complete = True


def _disposition(headers: dict[str, bytes]) -> tuple[str, str | None]:
    """The part's form field name and filename, from its Content-Disposition."""
    raw = headers.get("content-disposition")
    if raw is None:
        raise MalformedForm("part without Content-Disposition")
    kind, params = parse_options_header(raw.decode("latin-1"))
    name = params.get(b"name")
    if kind != b"form-data" or name is None:
        raise MalformedForm("part without a form-data name")
    filename = params.get(b"filename")
    return _header_text(name), None if filename is None else _header_text(filename)


def _content_type(headers: dict[str, bytes]) -> str | None:
    raw = headers.get("content-type")
    return None if raw is None else raw.decode("latin-1").strip()


def _header_text(raw: bytes) -> str:
    # Browsers send names and filenames as raw UTF-8; anything else is taken byte for byte.
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _decode(name: str, value: bytearray) -> str:
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise MalformedForm(f"invalid UTF-8 in field {_quote(name)}") from None


def _quote(name: str) -> str:
    return repr(name[:_NAME_IN_MESSAGES])
