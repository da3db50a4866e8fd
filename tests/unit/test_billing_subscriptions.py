"""Plans, subscribing (upgrade, renewal), history and the effective plan."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.factories import Account, Tenant, World, subscribe_paid
from tests.unit.fakes import PAID, TRIAL
from vidplat.domain.billing.model import PlanCode
from vidplat.domain.billing.queries import effective_plan
from vidplat.domain.billing.use_cases import GetOrganization, ListPlans, Subscribe, SubscriptionHistory
from vidplat.domain.errors import AdminRequired, InvalidInput, PlanNotFound
from vidplat.domain.pagination import PageRequest

FIFTEEN_DAYS = timedelta(days=15)


def subscribe(world: World) -> Subscribe:
    return Subscribe(world.uow, world.clock)


async def test_list_plans_shows_the_seeded_trial_and_paid_plans(world: World) -> None:
    plans = await ListPlans(world.uow)()

    assert {p.code: (p.price, p.duration_days, p.can_restore_videos) for p in plans} == {
        PlanCode.TRIAL: (0, None, False),
        PlanCode.PAID: (10000, 15, True),
    }


async def test_subscribing_to_paid_ends_trial_and_starts_paid_in_one_commit(world: World, acme: Tenant) -> None:
    world.clock.advance(days=2)
    commits = world.store.commits

    state = await subscribe(world)(acme.admin.principal, "PAID")

    now = world.clock.now()
    assert world.store.commits == commits + 1
    assert state.active
    paid = world.store.subscriptions[state.subscription.id]
    assert (paid.plan, paid.started_at, paid.ends_at, paid.ended_at) == (PAID, now, now + FIFTEEN_DAYS, None)
    [trial] = [s for s in world.store.subscriptions.values() if s.plan.code is PlanCode.TRIAL]
    assert trial.ended_at == now
    assert acme.org.id in world.store.locked_organizations


async def test_subscribing_again_while_active_extends_from_the_current_end(world: World, acme: Tenant) -> None:
    first = await subscribe_paid(world, acme)
    world.clock.advance(days=10)

    second = (await subscribe(world)(acme.admin.principal, "PAID")).subscription

    assert first.ends_at is not None
    assert second.id != first.id
    assert second.ends_at == first.ends_at + FIFTEEN_DAYS
    assert world.store.subscriptions[first.id].ended_at == world.clock.now()
    current = [s for s in world.store.subscriptions.values() if s.is_current]
    assert current == [second]


async def test_subscribing_after_a_lapse_starts_from_now(world: World, acme: Tenant) -> None:
    await subscribe_paid(world, acme)
    world.clock.advance(days=20)

    renewed = (await subscribe(world)(acme.admin.principal, "PAID")).subscription

    assert renewed.ends_at == world.clock.now() + FIFTEEN_DAYS


@pytest.mark.parametrize("code", ["GOLD", "paid", ""])
async def test_subscribing_to_an_unknown_plan_is_plan_not_found(world: World, acme: Tenant, code: str) -> None:
    with pytest.raises(PlanNotFound):
        await subscribe(world)(acme.admin.principal, code)

    assert len(world.store.subscriptions) == 1


async def test_subscribing_to_trial_is_invalid_input(world: World, acme: Tenant) -> None:
    with pytest.raises(InvalidInput) as caught:
        await subscribe(world)(acme.admin.principal, "TRIAL")

    assert caught.value.errors[0].field == "plan"
    assert len(world.store.subscriptions) == 1


async def test_member_cannot_subscribe_or_read_the_history(world: World, member: Account) -> None:
    with pytest.raises(AdminRequired):
        await subscribe(world)(member.principal, "PAID")
    with pytest.raises(AdminRequired):
        await SubscriptionHistory(world.uow, world.clock)(member.principal, PageRequest())

    assert len(world.store.subscriptions) == 1


async def test_history_is_newest_first_with_active_computed_from_the_clock(world: World, acme: Tenant) -> None:
    world.clock.advance(days=1)
    first = await subscribe_paid(world, acme)
    world.clock.advance(days=1)
    second = await subscribe_paid(world, acme)
    history = SubscriptionHistory(world.uow, world.clock)

    page = await history(acme.admin.principal, PageRequest(limit=2))
    assert [(s.subscription.id, s.active) for s in page.items] == [(second.id, True), (first.id, False)]
    assert page.total == 3
    assert page.items[0].subscription.ends_at == world.clock.now() - timedelta(days=1) + 2 * FIFTEEN_DAYS

    world.clock.advance(days=40)
    page = await history(acme.admin.principal, PageRequest(limit=1))
    assert [(s.subscription.id, s.active) for s in page.items] == [(second.id, False)]


async def test_history_shows_only_the_callers_organization(world: World, acme: Tenant, globex: Tenant) -> None:
    await subscribe_paid(world, globex)

    page = await SubscriptionHistory(world.uow, world.clock)(acme.admin.principal, PageRequest())

    assert page.total == 1
    assert {s.subscription.organization_id for s in page.items} == {acme.org.id}


async def test_a_lapsed_paid_plan_not_yet_expired_grants_only_trial(world: World, acme: Tenant) -> None:
    paid = await subscribe_paid(world, acme)
    assert paid.ends_at is not None

    async with world.uow() as uow:
        assert await effective_plan(uow, acme.org.id, world.clock.now()) == PAID
    world.clock.set(paid.ends_at)
    async with world.uow() as uow:
        assert await effective_plan(uow, acme.org.id, world.clock.now()) == TRIAL

    overview = await GetOrganization(world.uow, world.clock)(acme.admin.principal)
    assert overview.subscription is not None
    assert (overview.subscription.subscription.id, overview.subscription.active) == (paid.id, False)


async def test_get_organization_shows_the_current_subscription(world: World, acme: Tenant, member: Account) -> None:
    overview = await GetOrganization(world.uow, world.clock)(member.principal)

    assert overview.organization.id == acme.org.id
    assert overview.subscription is not None
    assert (overview.subscription.subscription.plan, overview.subscription.active) == (TRIAL, True)
