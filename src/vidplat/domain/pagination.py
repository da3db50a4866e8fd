"""Offset pagination shared by every listing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from vidplat.domain.errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class PageRequest:
    limit: int = 20
    offset: int = 0

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput("limit", f"must be between 1 and {MAX_LIMIT}")
        if self.offset < 0:
            raise InvalidInput("offset", "must be 0 or more")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    limit: int
    offset: int
