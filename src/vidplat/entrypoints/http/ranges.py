"""RFC 9110 preconditions and single byte ranges for a GET or HEAD of one stored representation."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from enum import Enum, auto
from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

_SAFE_METHODS = frozenset({"GET", "HEAD"})
_MAX_RANGES = 100  # more specs than this is abuse, not a player seeking
_MAX_DIGITS = 19  # the longest offset that still fits in a signed 64-bit integer
_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
# Lenient on the opaque tag's characters: a stray byte should make a tag not match, never raise.
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')

_Tag = tuple[bool, str]  # (weak, opaque tag)


@dataclass(frozen=True, slots=True)
class ByteRange:
    """An inclusive span of byte offsets into the representation."""

    start: int
    end: int

    @property
    def length(self) -> int:
        """How many bytes the span covers."""
        return self.end - self.start + 1


@dataclass(frozen=True, slots=True)
class Plan:
    """What to answer: the status, the byte span of a 206, and the headers to send."""

    status: int
    range: ByteRange | None
    headers: dict[str, str]


class _Skip(Enum):
    IGNORE = auto()  # serve the full representation
    UNSATISFIABLE = auto()


def plan_response(*, method: str, headers: Mapping[str, str], size: int, etag: str, last_modified: datetime) -> Plan:
    """Decide between 200, 206, 304, 412 and 416 for a request, never raising on what the client sent.

    `etag` is the current quoted entity tag (e.g. '"abc"'); `last_modified` must be timezone-aware and is
    compared at one-second precision. Both GET and HEAD honour Range, so a HEAD reports exactly what the
    same GET would send. More than one range is answered with the full representation (RFC 9110 lets a
    server ignore Range), as is any malformed, unknown-unit or absurd Range header.
    """
    current = _parse_etag(etag)
    request = {name.lower(): value for name, value in headers.items()}
    modified = _to_seconds(last_modified)
    sent = {"Accept-Ranges": "bytes", "ETag": etag, "Last-Modified": _imf_fixdate(modified)}
    method = method.upper()
    status = _precondition_failure(method, request, current, modified)
    if status is not None:
        return Plan(status, None, sent)
    span = _requested_span(method, request, size, current, modified)
    if span is _Skip.UNSATISFIABLE:
        return Plan(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, None, {**sent, "Content-Range": f"bytes */{size}"})
    if span is _Skip.IGNORE:
        return Plan(HTTPStatus.OK, None, {**sent, "Content-Length": str(size)})
    content_range = f"bytes {span.start}-{span.end}/{size}"
    return Plan(
        HTTPStatus.PARTIAL_CONTENT, span, {**sent, "Content-Range": content_range, "Content-Length": str(span.length)}
    )


def _precondition_failure(method: str, request: dict[str, str], etag: _Tag, modified: datetime) -> int | None:
    """304 or 412 when a precondition says so, evaluated in RFC 9110 section 13.2.2 order."""
    if_match = request.get("if-match")
    if if_match is not None:
        if not _any_tag_matches(if_match, etag, weak=False):
            return HTTPStatus.PRECONDITION_FAILED
    elif (since := _http_date(request.get("if-unmodified-since"))) is not None and modified > since:
        return HTTPStatus.PRECONDITION_FAILED
    if_none_match = request.get("if-none-match")
    if if_none_match is not None:
        if _any_tag_matches(if_none_match, etag, weak=True):
            return HTTPStatus.NOT_MODIFIED if method in _SAFE_METHODS else HTTPStatus.PRECONDITION_FAILED
    elif method in _SAFE_METHODS and (since := _http_date(request.get("if-modified-since"))) and modified <= since:
        return HTTPStatus.NOT_MODIFIED
    return None


def _requested_span(
    method: str, request: dict[str, str], size: int, etag: _Tag, modified: datetime
) -> ByteRange | _Skip:
    value = request.get("range")
    if value is None or method not in _SAFE_METHODS:
        return _Skip.IGNORE
    if_range = request.get("if-range")
    if if_range is not None and not _if_range_holds(if_range, etag, modified):
        return _Skip.IGNORE
    spec = _single_spec(value)
    return _Skip.IGNORE if spec is None else _span(*spec, size)


def _single_spec(value: str) -> tuple[str, str] | None:
    """The (first, last) digits of a lone, well-formed `bytes` range spec; None for anything else."""
    unit, equals, range_set = value.partition("=")
    if not equals or unit.lower() != "bytes":
        return None
    # maxsplit bounds the work on a hostile header; empty list elements are allowed by the # rule.
    elements = range_set.split(",", _MAX_RANGES)
    specs = [element.strip() for element in elements if element.strip()]
    if len(elements) > _MAX_RANGES or len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if (not first and not last) or len(first) > _MAX_DIGITS or len(last) > _MAX_DIGITS:
        return None
    return first, last


def _span(first: str, last: str, size: int) -> ByteRange | _Skip:
    """The bytes a spec selects, clamped to the representation."""
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            return _Skip.UNSATISFIABLE
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    if last and int(last) < start:
        return _Skip.IGNORE
    if start >= size:
        return _Skip.UNSATISFIABLE
    return ByteRange(start, min(int(last), size - 1) if last else size - 1)


def _if_range_holds(value: str, etag: _Tag, modified: datetime) -> bool:
    """Whether If-Range lets the range apply: a strongly matching tag, or exactly the Last-Modified date."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        tag = _ENTITY_TAG.fullmatch(value)
        return tag is not None and _any_tag_matches(tag.group(0), etag, weak=False)
    return _http_date(value) == modified


def _any_tag_matches(field: str, etag: _Tag, *, weak: bool) -> bool:
    """Compare a list of entity tags (or `*`) with the current one; strong comparison unless `weak`."""
    if field.strip() == "*":
        return True
    current_weak, current_opaque = etag
    for tag in _ENTITY_TAG.finditer(field):
        # Strong comparison: same opaque tag and neither is weak; weak comparison ignores the W/ prefix.
        if tag.group(2) == current_opaque and (weak or not (tag.group(1) or current_weak)):
            return True
    return False


def _parse_etag(etag: str) -> _Tag:
    tag = _ENTITY_TAG.fullmatch(etag)
    if tag is None:
        raise ValueError(f"not an entity tag: {etag!r}")
    return bool(tag.group(1)), tag.group(2)


def _http_date(value: str | None) -> datetime | None:
    """An HTTP date as an aware datetime, or None when absent or invalid."""
    if value is None:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" yields a naive datetime; HTTP dates are always GMT.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@functools.lru_cache(maxsize=4096)
def _imf_fixdate(moment: datetime) -> str:
    # A player sends one video's Last-Modified with every range it asks for; formatting it was
    # 5% of an offloaded stream request's CPU.
    return format_datetime(moment, usegmt=True)


def _to_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("last_modified must be timezone-aware")
    # HTTP dates carry whole seconds, so comparisons must ignore the stored microseconds.
    return moment.astimezone(UTC).replace(microsecond=0)
