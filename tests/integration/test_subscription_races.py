"""Concurrent purchases are dated in the order the organization lock serialised them.

Each purchase ends the current subscription at the instant it starts the next, so the history,
newest first, is a chain: every row ended when the one above it started, each renewal ends one
plan length after the one it extended, and only the first row is active.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from itertools import pairwise

from tests.integration.conftest import Platform
from tests.integration.races import Gap, beginning_late
from tests.integration.sql_fixtures import NOW, Database, make_org, make_subscription, make_user
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.billing.queries import SubscriptionState
from vidplat.domain.billing.use_cases import Subscribe, SubscriptionHistory
from vidplat.domain.pagination import PageRequest

PAID_DAYS = timedelta(days=15)


class TickingClock:
    """Each reading is one millisecond after the last: distinct instants in the order they were read."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


def assert_chained(history: list[SubscriptionState], purchases: int) -> None:
    """The signup's TRIAL then `purchases` PAID renewals, newest first, chained exactly."""
    plans = [item.subscription.plan.code.value for item in history]
    assert plans == ["PAID"] * purchases + ["TRIAL"]
    assert [item.active for item in history] == [True] + [False] * purchases
    rows = [item.subscription for item in history]
    for newer, older in pairwise(rows):
        assert older.ended_at == newer.started_at, (older, newer)
        assert older.started_at < newer.started_at, (older, newer)
    ends = [row.ends_at for row in reversed(rows[:purchases])]
    first_start = rows[purchases - 1].started_at
    assert ends == [first_start + PAID_DAYS * n for n in range(1, purchases + 1)]


async def test_a_purchase_delayed_before_its_transaction_is_dated_after_the_one_that_overtook_it(
    db: Database,
) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin, make_subscription(org, started_at=NOW))
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN)
    clock, gap = TickingClock(NOW), Gap()
    delayed = asyncio.create_task(Subscribe(beginning_late(db, gap), clock)(principal, "PAID"))
    await gap.wait_reached()  # called first, now waiting before its transaction

    await Subscribe(db.uow, clock)(principal, "PAID")
    gap.resume.set()
    await delayed

    history = await SubscriptionHistory(db.uow, clock)(principal, PageRequest())
    assert_chained(list(history.items), 2)


async def test_twenty_concurrent_upgrades_chain_in_purchase_order_with_the_newest_current(platform: Platform) -> None:
    purchases = 20
    clock = TickingClock(NOW)
    first, second = await platform.started(clock=clock), await platform.started(clock=clock)
    admin = await platform.sign_up(first, "Busy Buyers")

    results = await asyncio.gather(
        *(racer.use_cases.subscribe(admin, "PAID") for _ in range(purchases // 2) for racer in (first, second))
    )

    history = await first.use_cases.subscription_history(admin, PageRequest(limit=50))
    assert history.total == purchases + 1
    assert_chained(list(history.items), purchases)
    # Each purchase answered with the row it created: together they are the whole chain.
    assert {r.subscription.id for r in results} == {item.subscription.id for item in history.items[:purchases]}
