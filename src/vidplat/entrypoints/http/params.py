"""Query parameters shared by listings."""

from __future__ import annotations

from typing import Annotated

from litestar.params import Parameter

from vidplat.domain.pagination import MAX_LIMIT, PageRequest

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Page size", default=20)]
Offset = Annotated[int, Parameter(ge=0, le=10**9, description="Items to skip", default=0)]


def page(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)
