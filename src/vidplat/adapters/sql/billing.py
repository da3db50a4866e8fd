"""Plans and subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

from advanced_alchemy.types import GUID, DateTimeUTC
from sqlalchemy import Table, func, insert, literal, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Key, Rows
from vidplat.adapters.sql.rows import PlanRow, SubscriptionRow
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.pagination import Cursor, Page, PageRequest


def _plan(row: PlanRow) -> Plan:
    return Plan(
        code=PlanCode(row.code),
        name=row.name,
        price=row.price,
        duration_days=row.duration_days,
        can_restore_videos=row.can_restore_videos,
        max_storage_bytes=row.max_storage_bytes,
        max_users=row.max_users,
    )


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id,
        organization_id=row.organization_id,
        plan=_plan(row.plan),
        started_at=row.started_at,
        ends_at=row.ends_at,
        ended_at=row.ended_at,
    )


class SqlPlanRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._rows = Rows(PlanRow, session)

    async def list(self) -> Sequence[Plan]:
        rows = await self._rows.get_many(order_by=[PlanRow.price.asc(), PlanRow.code.asc()])
        return [_plan(row) for row in rows]

    async def get(self, code: PlanCode) -> Plan | None:
        row = await self._rows.get_one_or_none(PlanRow.code == code.value)
        return _plan(row) if row else None


class SqlSubscriptionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = Rows(SubscriptionRow, session)

    async def add(self, subscription: Subscription) -> None:
        await self._rows.add(SubscriptionRow(**_values(subscription)))

    async def current(self, organization_id: UUID) -> Subscription | None:
        row = await self._rows.get_one_or_none(
            SubscriptionRow.organization_id == organization_id, SubscriptionRow.ended_at.is_(None)
        )
        return _subscription(row) if row else None

    async def end(self, subscription_id: UUID, at: datetime) -> bool:
        ended = await self._session.scalar(
            update(SubscriptionRow)
            .where(SubscriptionRow.id == subscription_id, SubscriptionRow.ended_at.is_(None))
            .values(ended_at=at)
            .returning(SubscriptionRow.id)
        )
        return ended is not None

    async def history(self, organization_id: UUID, page: PageRequest) -> Page[Subscription]:
        return await self._rows.page(
            page,
            _subscription,
            SubscriptionRow.organization_id == organization_id,
            key=_HISTORY,
            newest_first=True,
        )

    async def lapsed(self, now: datetime, limit: int, *, after: Cursor | None = None) -> Sequence[Subscription]:
        statement = select(SubscriptionRow).where(SubscriptionRow.ended_at.is_(None), SubscriptionRow.ends_at <= now)
        if after is not None:  # ix_subscriptions_lapsing holds (ends_at, id): each batch starts where the last ended
            key = tuple_(SubscriptionRow.ends_at, SubscriptionRow.id)
            start = tuple_(literal(after.times[0], DateTimeUTC()), literal(after.id, GUID()))
            statement = statement.where(key > start)
        rows = await self._session.scalars(
            statement.order_by(SubscriptionRow.ends_at.asc(), SubscriptionRow.id.asc()).limit(limit)
        )
        return [_subscription(row) for row in rows]

    async def add_many(self, subscriptions: Sequence[Subscription]) -> None:
        if subscriptions:
            await self._session.execute(insert(_TABLE), [_values(s) for s in subscriptions])

    async def end_lapsed(self, subscription_ids: Collection[UUID]) -> set[UUID]:
        if not subscription_ids:
            return set()
        ended = await self._session.scalars(
            update(_TABLE)
            .where(_TABLE.c.id.in_(list(subscription_ids)), _TABLE.c.ended_at.is_(None))
            .values(ended_at=_TABLE.c.ends_at)
            .returning(_TABLE.c.id)
        )
        return set(ended)


# Purchases at one instant (a coarse or stopped clock) each end later than the one they follow, or
# replace the TRIAL that has no end: the end breaks the tie in order (no end sorting last).
_NO_END = literal(datetime(1, 1, 1, tzinfo=UTC), DateTimeUTC())
_HISTORY = Key((SubscriptionRow.started_at, func.coalesce(SubscriptionRow.ends_at, _NO_END)), SubscriptionRow.id)

# Core, not ORM-enabled, for the expiry's batches: no session state to synchronise.
_TABLE = cast("Table", SubscriptionRow.__table__)


def _values(subscription: Subscription) -> dict[str, object]:
    return {
        "id": subscription.id,
        "organization_id": subscription.organization_id,
        "plan_code": subscription.plan.code.value,
        "started_at": subscription.started_at,
        "ends_at": subscription.ends_at,
        "ended_at": subscription.ended_at,
    }
