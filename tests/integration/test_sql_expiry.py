"""The expiry job on the real unit of work: batches, two runners at once, a row that cannot expire."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Self
from uuid import UUID

import pytest
from sqlalchemy import text

from tests.integration.sql_fixtures import NOW, Database, make_org, make_subscription
from tests.plans import PAID
from tests.unit.fakes import FakeClock
from vidplat.adapters.sql import SqlUnitOfWork
from vidplat.domain.billing.model import Subscription
from vidplat.domain.billing.use_cases import ExpireSubscriptions
from vidplat.domain.pagination import PageRequest
from vidplat.domain.ports import UnitOfWork

LATER = NOW + timedelta(days=30)


async def lapsing(db: Database, count: int) -> list[Subscription]:
    """`count` organizations on PAID plans that lapsed one minute apart, oldest first."""
    orgs = [make_org() for _ in range(count)]
    paid = [make_subscription(org, PAID, started_at=NOW + timedelta(minutes=i)) for i, org in enumerate(orgs)]
    await db.seed(*orgs, *paid)
    return paid


async def current_plans(db: Database, subscriptions: list[Subscription]) -> dict[UUID, str | None]:
    """The plan each organization is on now (None when it has no current subscription)."""
    async with db.uow(read_only=True) as uow:
        found = {s.organization_id: await uow.subscriptions.current(s.organization_id) for s in subscriptions}
    return {org: None if current is None else current.plan.code.value for org, current in found.items()}


class HeldUnitOfWork(SqlUnitOfWork):
    """Waits at the barrier before beginning: both runners have read the same batch before either writes."""

    def __init__(self, db: Database, barrier: asyncio.Barrier) -> None:
        super().__init__(db.sessions, db.publish)
        self._barrier = barrier

    async def __aenter__(self) -> Self:
        await self._barrier.wait()
        return await super().__aenter__()


class Runner:
    """A unit-of-work factory whose first writing unit of work is held at the barrier."""

    def __init__(self, db: Database, barrier: asyncio.Barrier) -> None:
        self.db, self.barrier, self.held = db, barrier, False

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        if read_only or self.held:
            return self.db.uow(read_only=read_only)
        self.held = True
        return HeldUnitOfWork(self.db, self.barrier)


async def test_expiry_ends_every_lapsed_subscription_in_batches_and_falls_back_to_trial(db: Database) -> None:
    paid = await lapsing(db, 7)
    assert await ExpireSubscriptions(db.uow, FakeClock(LATER), batch_size=3)() == 7
    assert await current_plans(db, paid) == {s.organization_id: "TRIAL" for s in paid}
    async with db.uow(read_only=True) as uow:
        ended = [await uow.subscriptions.history(s.organization_id, PageRequest(limit=2)) for s in paid]
    # Each ended at its own end, and its TRIAL started there.
    for subscription, history in zip(paid, ended, strict=True):
        trial, old = history.items
        assert (old.id, old.ended_at, trial.started_at) == (subscription.id, subscription.ends_at, subscription.ends_at)
    assert await ExpireSubscriptions(db.uow, FakeClock(LATER), batch_size=3)() == 0


async def test_two_runners_that_read_the_same_batch_expire_each_subscription_once(db: Database) -> None:
    paid = await lapsing(db, 10)
    barrier = asyncio.Barrier(2)
    runners = [ExpireSubscriptions(Runner(db, barrier), FakeClock(LATER), batch_size=4) for _ in range(2)]

    counts = await asyncio.gather(*(runner() for runner in runners))

    assert sum(counts) == 10, counts
    assert await current_plans(db, paid) == {s.organization_id: "TRIAL" for s in paid}
    async with db.engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM subscriptions")) == 20


async def test_a_subscription_that_cannot_expire_is_logged_and_the_later_ones_still_expire(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    paid = await lapsing(db, 6)
    stuck = paid[0]  # first in line, as the one that used to stop every later run
    await _refuse_updates_of(db, stuck.id)
    try:
        with caplog.at_level(logging.WARNING):
            expired = await ExpireSubscriptions(db.uow, FakeClock(LATER), batch_size=4)()
    finally:
        await _allow_updates(db)

    assert expired == 5
    plans = await current_plans(db, paid)
    assert plans.pop(stuck.organization_id) == "PAID"
    assert plans == {s.organization_id: "TRIAL" for s in paid[1:]}
    assert f"subscription {stuck.id} could not be expired" in caplog.text
    # Once whatever blocked it is gone, the next run expires it.
    assert await ExpireSubscriptions(db.uow, FakeClock(LATER), batch_size=4)() == 1


async def _refuse_updates_of(db: Database, subscription_id: UUID) -> None:
    statements = {
        "postgresql": [
            "CREATE FUNCTION refuse_update() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            f"CREATE TRIGGER refuse BEFORE UPDATE ON subscriptions FOR EACH ROW WHEN (OLD.id = '{subscription_id}') "
            "EXECUTE FUNCTION refuse_update()",
        ],
        "sqlite": [
            f"CREATE TRIGGER refuse BEFORE UPDATE ON subscriptions WHEN OLD.id = X'{subscription_id.hex}' "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ],
    }[db.backend]
    async with db.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


async def _allow_updates(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(
            text("DROP TRIGGER refuse" + (" ON subscriptions" if db.backend == "postgresql" else ""))
        )
        if db.backend == "postgresql":
            await connection.execute(text("DROP FUNCTION refuse_update()"))
