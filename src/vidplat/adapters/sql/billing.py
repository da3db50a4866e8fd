"""Plans and subscriptions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Rows
from vidplat.adapters.sql.rows import PlanRow, SubscriptionRow
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.pagination import Page, PageRequest


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
        await self._rows.add(
            SubscriptionRow(
                id=subscription.id,
                organization_id=subscription.organization_id,
                plan_code=subscription.plan.code.value,
                started_at=subscription.started_at,
                ends_at=subscription.ends_at,
                ended_at=subscription.ended_at,
            )
        )

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
            # Purchases at one instant (a coarse or stopped clock) each end later than the one
            # they follow, or replace the TRIAL that has no end: the end breaks the tie in order.
            order_by=[
                SubscriptionRow.started_at.desc(),
                SubscriptionRow.ends_at.desc().nulls_last(),
                SubscriptionRow.id.desc(),
            ],
        )

    async def lapsed(self, now: datetime, limit: int) -> Sequence[Subscription]:
        rows = await self._session.scalars(
            select(SubscriptionRow)
            .where(SubscriptionRow.ended_at.is_(None), SubscriptionRow.ends_at <= now)
            .order_by(SubscriptionRow.ends_at.asc(), SubscriptionRow.id.asc())
            .limit(limit)
        )
        return [_subscription(row) for row in rows]
