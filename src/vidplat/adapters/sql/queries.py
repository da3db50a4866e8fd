"""What every repository shares: advanced-alchemy's generic reads, search and paging."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import ColumnElement, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from vidplat.adapters.sql.rows import Base
from vidplat.domain.pagination import Cursor, Page, PageRequest, Slice

RowT = TypeVar("RowT", bound=Base)
T = TypeVar("T")
# A listing's order: a timestamp, then the id to break ties; both descending for newest first.
Key = tuple[QueryableAttribute[datetime], QueryableAttribute[UUID]]


class Rows(SQLAlchemyAsyncRepository[RowT]):
    """advanced-alchemy's repository for one row type, inside a unit of work's session."""

    def __init__(self, model: type[RowT], session: AsyncSession) -> None:
        self.model_type = model
        # wrap_exceptions=False: errors.py has already translated what has a domain meaning.
        super().__init__(session=session, wrap_exceptions=False, auto_refresh=False)

    async def page(
        self,
        request: PageRequest,
        to_domain: Callable[[RowT], T],
        *filters: ColumnElement[bool],
        key: Key,
        newest_first: bool,
        total: int | None = None,
    ) -> Page[T]:
        """One page and the number of rows the filters match (counted unless `total` is known)."""
        found = await self.slice(request, to_domain, *filters, key=key, newest_first=newest_first)
        if total is None:
            total = await self.count_matching(*filters)
        return Page(found.items, total, found.limit, found.offset, found.next_cursor)

    async def slice(
        self,
        request: PageRequest,
        to_domain: Callable[[RowT], T],
        *filters: ColumnElement[bool],
        key: Key,
        newest_first: bool,
    ) -> Slice[T]:
        """The rows in `key` order after the request's cursor (or offset), one more fetched to tell if more follow."""
        at, id_ = key
        order = (at.desc(), id_.desc()) if newest_first else (at.asc(), id_.asc())
        statement = select(self.model_type).where(*filters).order_by(*order).limit(request.limit + 1)
        if request.after is not None:
            # A row comparison, which both databases match against the (..., at, id) index.
            start = tuple_(literal(request.after.at, at.type), literal(request.after.id, id_.type))
            statement = statement.where(tuple_(at, id_) < start if newest_first else tuple_(at, id_) > start)
        elif request.offset:
            statement = statement.offset(request.offset)
        rows = list(await self.session.scalars(statement))
        last = rows[request.limit - 1] if len(rows) > request.limit else None
        next_cursor = Cursor(getattr(last, at.key), getattr(last, id_.key)) if last is not None else None
        return Slice([to_domain(row) for row in rows[: request.limit]], request.limit, request.offset, next_cursor)

    async def count_matching(self, *filters: ColumnElement[bool]) -> int:
        """count(*), which the partial listing indexes answer without visiting the table."""
        return int(await self.session.scalar(select(func.count()).select_from(self.model_type).where(*filters)) or 0)


def contains(column: QueryableAttribute[str], query: str) -> ColumnElement[bool]:
    """Case-insensitive substring match in which % and _ stand for themselves (ILIKE on PostgreSQL)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
