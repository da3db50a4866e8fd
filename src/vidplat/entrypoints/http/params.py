"""Handler parameters shared by the controllers: injected use cases and caller, pagination."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import NamedDependency
from litestar.params import Parameter

from vidplat.domain.accounts.model import Principal
from vidplat.domain.pagination import MAX_LIMIT, PageRequest
from vidplat.domain.use_cases import UseCases

Limit = Annotated[int, Parameter(ge=1, le=MAX_LIMIT, description="Page size")]
Offset = Annotated[int, Parameter(ge=0, le=10**9, description="Items to skip")]
Uc = NamedDependency[UseCases]
Caller = NamedDependency[Principal]


def client_address(request: Request[Any, Any, Any]) -> str | None:
    """The peer's address as the server saw it (behind a proxy, uvicorn's --proxy-headers decide)."""
    return request.client.host if request.client else None


def page(limit: int, offset: int) -> PageRequest:
    return PageRequest(limit=limit, offset=offset)
