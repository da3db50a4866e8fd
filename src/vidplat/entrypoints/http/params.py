"""Handler parameters shared by the controllers: injected use cases and caller, pagination."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import Parameter

from vidplat.domain.accounts.model import Principal
from vidplat.domain.pagination import MAX_LIMIT, Cursor, Page, PageRequest, Slice
from vidplat.domain.use_cases import UseCases

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Page size")]
Offset = Annotated[
    int,
    Parameter(
        ge=0,
        le=10**9,
        description="Items to skip. The database still walks every skipped item: for deep pages follow `cursor`.",
    ),
]
PageCursor = Annotated[
    str | None,
    Parameter(
        max_length=200,
        description=(
            "The `next_cursor` of the previous page (null on the last page): the page starts right after that"
            " page's last item, and costs the same however deep it is, with rows added meanwhile neither"
            " repeated nor skipped. `offset` must then be 0. Anything else is 422 `invalid_cursor`."
            " `total` stays exact and cheap: the catalog's and the users' totals are counts the database"
            " keeps per organization as videos and users change, a search counts its matches (within the"
            " organization, through the search index: its cost grows with the matches, and the catalog"
            " caches it until a video changes), and the other lists count from the same index that orders them."
        ),
    ),
]
Uc = NamedDependency[UseCases]
Caller = NamedDependency[Principal]


def client_address(request: Request[Any, Any, Any]) -> str | None:
    """The peer's address as the server saw it (behind a proxy, uvicorn's --proxy-headers decide)."""
    return request.client.host if request.client else None


def page(limit: int, offset: int, cursor: str | None = None) -> PageRequest:
    return PageRequest(limit=limit, offset=offset, after=None if cursor is None else Cursor.decode(cursor))


def next_cursor(found: Page[Any] | Slice[Any]) -> str | None:
    return None if found.next_cursor is None else found.next_cursor.encode()
