"""What every repository shares: advanced-alchemy's generic reads, search and paging."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import ColumnElement, SQLColumnExpression, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from vidplat.adapters.sql.rows import Base
from vidplat.domain.pagination import Cursor, InvalidCursor, Page, PageRequest, Slice

RowT = TypeVar("RowT", bound=Base)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Key:
    """A listing's order: timestamps (DateTimeUTC), then the id to break ties; all descending for newest first."""

    times: tuple[SQLColumnExpression[datetime], ...]
    id: QueryableAttribute[UUID]


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
        columns = (*key.times, key.id)
        order = [c.desc() for c in columns] if newest_first else [c.asc() for c in columns]
        statement = select(self.model_type, *key.times).where(*filters).order_by(*order).limit(request.limit + 1)
        if (after := request.after) is not None:
            if len(after.times) != len(key.times):
                raise InvalidCursor  # one handed out by another listing
            # A row comparison, which both databases match against the (..., times, id) index.
            start = tuple_(*(literal(t, DateTimeUTC()) for t in after.times), literal(after.id, GUID()))
            statement = statement.where(tuple_(*columns) < start if newest_first else tuple_(*columns) > start)
        elif request.offset:
            statement = statement.offset(request.offset)
        rows = (await self.session.execute(statement)).all()
        last = rows[request.limit - 1] if len(rows) > request.limit else None
        next_cursor = Cursor(tuple(last[1:]), getattr(last[0], key.id.key)) if last is not None else None
        items = [to_domain(row[0]) for row in rows[: request.limit]]
        return Slice(items, request.limit, request.offset, next_cursor)

    async def count_matching(self, *filters: ColumnElement[bool]) -> int:
        """count(*), which the partial listing indexes answer without visiting the table."""
        return int(await self.session.scalar(select(func.count()).select_from(self.model_type).where(*filters)) or 0)


def contains(column: QueryableAttribute[str], query: str) -> ColumnElement[bool]:
    """Case-insensitive substring match in which % and _ stand for themselves (ILIKE on PostgreSQL)."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")
