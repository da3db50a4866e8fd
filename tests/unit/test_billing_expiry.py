"""The subscription expiry job: every lapsed paid plan ends once and its organization goes back to TRIAL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.unit.factories import Tenant, World, sign_up, subscribe_paid
from vidplat.domain.billing.model import PlanCode, Subscription
from vidplat.domain.billing.use_cases import ExpireSubscriptions


def expire(world: World, batch_size: int = 100) -> ExpireSubscriptions:
    return ExpireSubscriptions(world.uow, world.clock, batch_size)


def current(world: World, tenant: Tenant) -> list[Subscription]:
    return [s for s in world.store.subscriptions.values() if s.organization_id == tenant.org.id and s.is_current]


async def test_expiry_ends_a_lapsed_paid_plan_and_starts_trial_at_its_end(world: World, acme: Tenant) -> None:
    paid = await subscribe_paid(world, acme)
    assert paid.ends_at is not None
    world.clock.advance(days=20)

    assert await expire(world)() == 1

    assert world.store.subscriptions[paid.id].ended_at == paid.ends_at
    [trial] = current(world, acme)
    assert (trial.plan.code, trial.started_at, trial.ends_at) == (PlanCode.TRIAL, paid.ends_at, None)


async def test_a_second_expiry_run_does_nothing(world: World, acme: Tenant) -> None:
    await subscribe_paid(world, acme)
    world.clock.advance(days=20)
    await expire(world)()
    rows = len(world.store.subscriptions)

    assert await expire(world)() == 0

    assert len(world.store.subscriptions) == rows
    assert len(current(world, acme)) == 1


async def test_expiry_leaves_unexpired_subscriptions_alone(world: World, acme: Tenant, globex: Tenant) -> None:
    lapsing = await subscribe_paid(world, acme)
    world.clock.advance(days=10)
    fresh = await subscribe_paid(world, globex)
    world.clock.advance(days=6)

    assert await expire(world)() == 1

    assert world.store.subscriptions[lapsing.id].ended_at is not None
    assert current(world, globex) == [fresh]
    assert world.store.subscriptions[fresh.id].ended_at is None


async def test_expiry_runs_at_the_exact_end(world: World, acme: Tenant) -> None:
    paid = await subscribe_paid(world, acme)
    assert paid.ends_at is not None

    world.clock.set(paid.ends_at - timedelta(microseconds=1))
    assert await expire(world)() == 0
    world.clock.set(paid.ends_at)
    assert await expire(world)() == 1


async def test_expiry_processes_more_lapsed_subscriptions_than_one_batch(world: World) -> None:
    tenants = [await sign_up(world, name=f"Tenant {n}") for n in range(7)]
    for tenant in tenants:
        await subscribe_paid(world, tenant)
    world.clock.advance(days=16)

    assert await expire(world, batch_size=3)() == 7

    for tenant in tenants:
        [trial] = current(world, tenant)
        assert trial.plan.code is PlanCode.TRIAL


async def test_expiry_handles_an_exact_multiple_of_the_batch_size(world: World) -> None:
    tenants = [await sign_up(world, name=f"Tenant {n}") for n in range(4)]
    for tenant in tenants:
        await subscribe_paid(world, tenant)
    world.clock.advance(days=16)

    assert await expire(world, batch_size=2)() == 4

    assert all(current(world, t)[0].plan.code is PlanCode.TRIAL for t in tenants)


async def test_concurrent_expiry_runs_expire_each_subscription_once(world: World, acme: Tenant, globex: Tenant) -> None:
    await subscribe_paid(world, acme)
    await subscribe_paid(world, globex)
    world.clock.advance(days=16)

    counts = await asyncio.gather(expire(world, batch_size=1)(), expire(world, batch_size=1)())

    assert sum(counts) == 2
    for tenant in (acme, globex):
        [trial] = current(world, tenant)
        assert trial.plan.code is PlanCode.TRIAL


async def test_expiry_does_not_undo_a_renewal_made_after_the_lapse(world: World, acme: Tenant) -> None:
    await subscribe_paid(world, acme)
    world.clock.advance(days=20)
    renewed = await subscribe_paid(world, acme)

    assert await expire(world)() == 0

    assert current(world, acme) == [renewed]
