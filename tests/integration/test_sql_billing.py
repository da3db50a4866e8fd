"""Plans and subscriptions on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.integration.sql_fixtures import NOW, Database, make_org, make_subscription
from tests.plans import PAID, TRIAL
from vidplat.domain.billing.model import PlanCode
from vidplat.domain.errors import SubscriptionConflict
from vidplat.domain.pagination import PageRequest


async def test_the_migration_seeds_the_trial_and_paid_plans(db: Database) -> None:
    async with db.uow() as uow:
        assert list(await uow.plans.list()) == [TRIAL, PAID]
        assert await uow.plans.get(PlanCode.PAID) == PAID


async def test_the_current_subscription_is_the_one_not_ended(db: Database) -> None:
    org, other = make_org(), make_org()
    old = make_subscription(org, started_at=NOW - timedelta(days=30), ended_at=NOW)
    paid = make_subscription(org, PAID)
    await db.seed(org, other, old, paid)
    async with db.uow() as uow:
        current = await uow.subscriptions.current(org.id)
        assert await uow.subscriptions.current(other.id) is None
    assert current == paid
    assert current is not None
    assert (current.plan, current.started_at, current.ends_at, current.ended_at) == (
        PAID,
        NOW,
        NOW + timedelta(days=15),
        None,
    )


async def test_a_subscription_ends_once(db: Database) -> None:
    org = make_org()
    subscription = make_subscription(org)
    await db.seed(org, subscription)
    async with db.uow() as uow:
        assert await uow.subscriptions.end(subscription.id, NOW)
        assert not await uow.subscriptions.end(subscription.id, NOW + timedelta(hours=1))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.subscriptions.current(org.id) is None
        history = await uow.subscriptions.history(org.id, PageRequest())
    assert history.items[0].ended_at == NOW


async def test_history_is_newest_first_with_a_total_and_per_organization(db: Database) -> None:
    org, other = make_org(), make_org()
    ended = [make_subscription(org, started_at=NOW - timedelta(days=d), ended_at=NOW) for d in (3, 2, 1)]
    await db.seed(org, other, *ended, make_subscription(org), make_subscription(other))
    async with db.uow() as uow:
        page = await uow.subscriptions.history(org.id, PageRequest(limit=2, offset=1))
    assert [s.id for s in page.items] == [ended[2].id, ended[1].id]
    assert page.total == 4


async def test_purchases_at_one_instant_are_listed_in_the_order_they_were_made(db: Database) -> None:
    org = make_org()
    # Created newest first, so their time-ordered ids alone would list them the wrong way round.
    renewal = make_subscription(org, PAID)
    renewal.ends_at = NOW + timedelta(days=30)
    purchase = make_subscription(org, PAID, ended_at=NOW)
    trial = make_subscription(org, ended_at=NOW)
    await db.seed(org, renewal, purchase, trial)
    async with db.uow() as uow:
        page = await uow.subscriptions.history(org.id, PageRequest())
    assert [s.id for s in page.items] == [renewal.id, purchase.id, trial.id]


async def test_lapsed_lists_current_subscriptions_past_their_end_oldest_first(db: Database) -> None:
    orgs = [make_org() for _ in range(4)]
    late = make_subscription(orgs[0], PAID, started_at=NOW - timedelta(days=20))
    later = make_subscription(orgs[1], PAID, started_at=NOW - timedelta(days=16))
    running = make_subscription(orgs[2], PAID, started_at=NOW - timedelta(days=1))
    trial = make_subscription(orgs[3], started_at=NOW - timedelta(days=100))
    ended = make_subscription(orgs[3], PAID, started_at=NOW - timedelta(days=30), ended_at=NOW - timedelta(days=15))
    await db.seed(*orgs, late, later, running, trial, ended)
    async with db.uow() as uow:
        assert [s.id for s in await uow.subscriptions.lapsed(NOW, 10)] == [late.id, later.id]
        assert [s.id for s in await uow.subscriptions.lapsed(NOW, 1)] == [late.id]


async def test_an_organization_has_one_current_subscription(db: Database) -> None:
    org = make_org()
    await db.seed(org, make_subscription(org))
    async with db.uow() as uow:
        with pytest.raises(SubscriptionConflict):
            await uow.subscriptions.add(make_subscription(org, PAID))


async def test_concurrent_first_subscriptions_let_exactly_one_win(db: Database) -> None:
    org = make_org()
    await db.seed(org)

    async def subscribe() -> None:
        async with db.uow() as uow:
            await uow.subscriptions.add(make_subscription(org, PAID))
            await asyncio.sleep(0.01)
            await uow.commit()

    results = await asyncio.gather(subscribe(), subscribe(), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "SubscriptionConflict"]


async def test_concurrent_plan_changes_end_the_current_subscription_once(db: Database) -> None:
    org = make_org()
    trial = make_subscription(org)
    await db.seed(org, trial)

    async def change_plan() -> bool:
        async with db.uow() as uow:
            if not await uow.subscriptions.end(trial.id, NOW):
                return False
            await uow.subscriptions.add(make_subscription(org, PAID))
            await asyncio.sleep(0.01)
            await uow.commit()
            return True

    assert sorted(await asyncio.gather(change_plan(), change_plan())) == [False, True]
    async with db.uow() as uow:
        assert (await uow.subscriptions.history(org.id, PageRequest())).total == 2
