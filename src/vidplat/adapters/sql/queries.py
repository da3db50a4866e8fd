"""What every repository shares: advanced-alchemy's generic reads, search and paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from advanced_alchemy.filters import LimitOffset
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, UnaryExpression
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from vidplat.adapters.sql.rows import Base
from vidplat.domain.pagination import Page, PageRequest

RowT = TypeVar("RowT", bound=Base)
T = TypeVar("T")


class Rows(SQLAlchemyAsyncRepository[RowT]):
    """advanced-alchemy's repository for one row type, inside a unit of work's session."""

    # A window-function count reports 0 for a page past the end; the total must not.
    count_with_window_function = False

    def __init__(self, model: type[RowT], session: AsyncSession) -> None:
        self.model_type = model
        # wrap_exceptions=False: errors.py has already translated what has a domain meaning.
        super().__init__(session=session, wrap_exceptions=False, auto_refresh=False)

    async def page(
        self,
        request: PageRequest,
        to_domain: Callable[[RowT], T],
        *filters: ColumnElement[bool],
        order_by: Sequence[UnaryExpression[Any]],
    ) -> Page[T]:
        found, total = await self.get_many_and_count(
            *filters, LimitOffset(limit=request.limit, offset=request.offset), order_by=list(order_by)
        )
        return Page([to_domain(row) for row in found], total, request.limit, request.offset)


def contains(column: QueryableAttribute[str], query: str) -> ColumnElement[bool]:
    """Case-insensitive substring match in which % and _ stand for themselves."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
