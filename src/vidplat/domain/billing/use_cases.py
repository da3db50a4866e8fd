"""Billing use cases: plans, upgrades and renewals, history, and the expiry job."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vidplat.domain.accounts.model import Principal
from vidplat.domain.billing import quota
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.billing.queries import OrganizationOverview, SubscriptionState, overview, state, trial_plan
from vidplat.domain.errors import InvalidInput, OrganizationNotFound, PlanNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import Clock, UnitOfWorkFactory

_PLAN_CODES = frozenset(code.value for code in PlanCode)


@dataclass(frozen=True, slots=True)
class ListPlans:
    uow: UnitOfWorkFactory

    async def __call__(self) -> Sequence[Plan]:
        async with self.uow(read_only=True) as uow:
            return await uow.plans.list()


@dataclass(frozen=True, slots=True)
class GetOrganization:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal) -> OrganizationOverview:
        async with self.uow(read_only=True) as uow:
            org = await uow.organizations.get(principal.organization_id)
            if org is None:
                raise OrganizationNotFound
            current = await uow.subscriptions.current(org.id)
            return overview(org, current, await quota.usage(uow, org.id), self.clock.now())


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Start a paid plan (payment assumed done); buying it again while active extends it."""

    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, plan_code: str) -> SubscriptionState:
        principal.require_admin()
        async with self.uow() as uow:
            plan = await uow.plans.get(PlanCode(plan_code)) if plan_code in _PLAN_CODES else None
            if plan is None:
                raise PlanNotFound
            if plan.duration_days is None:
                raise InvalidInput("plan", "only paid plans can be subscribed to")
            await uow.organizations.lock(principal.organization_id)
            # Read under the lock: purchases are dated in the order they happened, each after the one it ends.
            now = self.clock.now()
            current = await uow.subscriptions.current(principal.organization_id)
            start_from = now
            if current is not None:
                if current.plan.code is plan.code and current.is_active(now) and current.ends_at is not None:
                    start_from = current.ends_at
                await uow.subscriptions.end(current.id, now)
            # Each purchase is its own row so the history shows every payment.
            subscription = Subscription(
                id=new_id(),
                organization_id=principal.organization_id,
                plan=plan,
                started_at=now,
                ends_at=plan.ends_at(start_from),
            )
            await uow.subscriptions.add(subscription)
            await uow.commit()
        return state(subscription, now)


@dataclass(frozen=True, slots=True)
class SubscriptionHistory:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[SubscriptionState]:
        principal.require_admin()
        now = self.clock.now()
        async with self.uow(read_only=True) as uow:
            found = await uow.subscriptions.history(principal.organization_id, page)
        return Page([state(s, now) for s in found.items], found.total, found.limit, found.offset)


@dataclass(frozen=True, slots=True)
class ExpireSubscriptions:
    """End every lapsed paid subscription and put its organization back on TRIAL.

    Each organization is its own transaction under the organization lock, and `end`
    only succeeds once, so concurrent runs never end or replace a subscription twice.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    batch_size: int = 100

    async def __call__(self) -> int:
        now = self.clock.now()
        expired = 0
        while True:
            async with self.uow(read_only=True) as uow:
                lapsed = await uow.subscriptions.lapsed(now, self.batch_size)
                trial = await trial_plan(uow)
            for subscription in lapsed:
                expired += await self._expire(subscription, trial)
            if len(lapsed) < self.batch_size:
                return expired

    async def _expire(self, subscription: Subscription, trial: Plan) -> int:
        if subscription.ends_at is None:  # a plan without an end never lapses
            return 0
        async with self.uow() as uow:
            await uow.organizations.lock(subscription.organization_id)
            if not await uow.subscriptions.end(subscription.id, subscription.ends_at):
                return 0
            await uow.subscriptions.add(
                Subscription(
                    id=new_id(),
                    organization_id=subscription.organization_id,
                    plan=trial,
                    started_at=subscription.ends_at,
                    ends_at=None,
                )
            )
            await uow.commit()
        return 1
