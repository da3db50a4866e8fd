"""Pagination shared by every listing: offsets for compatibility, cursors for deep pages."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

from vidplat.domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"
    message = "The cursor is not one this API handed out."

    def __init__(self) -> None:
        super().__init__("cursor", "is not a cursor from a previous page")


@dataclass(frozen=True, slots=True)
class Cursor:
    """The sort key (timestamps, then the id) of the last item of a page: the next page starts after it.

    Opaque to clients but not secret: a forged one only moves within the caller's own listing.
    """

    times: tuple[datetime, ...]
    id: UUID

    def encode(self) -> str:
        raw = "|".join([*(t.isoformat() for t in self.times), str(self.id)]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
            *times, id_ = raw.decode().split("|")
            cursor = cls(tuple(datetime.fromisoformat(t) for t in times), UUID(id_))
        except (ValueError, UnicodeError, binascii.Error):
            raise InvalidCursor from None
        if not cursor.times or any(t.tzinfo is None for t in cursor.times):
            raise InvalidCursor
        return cursor


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    limit: int = 20
    offset: int = 0
    after: Cursor | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidInput("offset", "must be 0 or more")
        if self.after is not None and self.offset:
            raise InvalidInput("offset", "must be 0 with a cursor: the cursor says where the page starts")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
    next_cursor: Cursor | None = None  # None on the last page


@dataclass(frozen=True, slots=True)
class Slice(Generic[T]):
    """A page without its total, for listings whose caller has no use for one."""

    items: Sequence[T]
    limit: int
    offset: int
    next_cursor: Cursor | None = None
