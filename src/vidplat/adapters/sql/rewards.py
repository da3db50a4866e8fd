"""The view-points ledger."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Rows
from vidplat.adapters.sql.rows import ViewCreditRow
from vidplat.domain import topics
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.rewards.model import ViewCredit


def _credit(row: ViewCreditRow) -> ViewCredit:
    return ViewCredit(
        id=row.id,
        organization_id=row.organization_id,
        user_id=row.user_id,
        video_id=row.video_id,
        points=row.points,
        awarded_at=row.awarded_at,
    )


class SqlViewCreditRepository:
    def __init__(self, session: AsyncSession, changed: set[str]) -> None:
        self._session = session
        self._rows = Rows(ViewCreditRow, session)
        self._changed = changed

    async def exists(self, user_id: UUID, video_id: UUID) -> bool:
        # Asked of every stream not yet known to be credited: a probe, not advanced-alchemy's count.
        found = await self._session.scalar(
            select(literal(True)).where(ViewCreditRow.user_id == user_id, ViewCreditRow.video_id == video_id)
        )
        return found is not None

    async def add_once(self, credit: ViewCredit) -> bool:
        # The unique key decides, not a prior read: concurrent first views race to this one statement.
        insert = postgresql.insert if self._session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(ViewCreditRow)
            .values(
                id=credit.id,
                organization_id=credit.organization_id,
                user_id=credit.user_id,
                video_id=credit.video_id,
                points=credit.points,
                awarded_at=credit.awarded_at,
            )
            .on_conflict_do_nothing(index_elements=[ViewCreditRow.user_id, ViewCreditRow.video_id])
            .returning(ViewCreditRow.id)
        )
        if await self._session.scalar(statement) is None:
            return False
        self._changed.add(topics.credit(credit.user_id, credit.video_id))
        return True

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Page[ViewCredit]:
        return await self._rows.page(
            page,
            _credit,
            ViewCreditRow.user_id == user_id,
            order_by=[ViewCreditRow.awarded_at.desc(), ViewCreditRow.id.desc()],
        )
