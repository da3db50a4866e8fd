"""Billing use cases: plans, upgrades and renewals, history, and the expiry job."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from vidplat.domain import events
from vidplat.domain.accounts.model import Principal
from vidplat.domain.billing import quota
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.billing.queries import OrganizationOverview, SubscriptionState, overview, state, trial_plan
from vidplat.domain.errors import InvalidInput, OrganizationNotFound, PlanNotFound, Unavailable
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Cursor, Page, PageRequest
from vidplat.domain.ports import Clock, UnitOfWorkFactory
from vidplat.domain.webhooks.events import subscription_event
from vidplat.domain.webhooks.model import EventType

log = logging.getLogger(__name__)

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
            await uow.outbox.record(subscription_event(EventType.SUBSCRIPTION_ACTIVATED, subscription, now))
            await uow.commit()
        events.record(
            "subscription_changed",
            "subscription activated",
            change="activated",
            organization_id=str(principal.organization_id),
            plan=plan.code.value,
            ends_at=str(subscription.ends_at),
        )
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
        return Page([state(s, now) for s in found.items], found.total, found.limit, found.offset, found.next_cursor)


@dataclass(frozen=True, slots=True)
class ExpireSubscriptions:
    """End every lapsed paid subscription and put its organization back on TRIAL.

    A few hundred per transaction: their organizations are locked in id order (Subscribe locks
    one), then only those still current are ended, so concurrent runs end and replace each one
    once and cannot deadlock. A batch that fails is retried one subscription at a time; the one
    that still fails is logged and passed over, and the run goes on with the rest.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    batch_size: int = 300

    async def __call__(self) -> int:
        now = self.clock.now()
        async with self.uow(read_only=True) as uow:
            trial = await trial_plan(uow)
        expired, after = 0, None
        while True:
            async with self.uow(read_only=True) as uow:
                lapsed = [s for s in await uow.subscriptions.lapsed(now, self.batch_size, after=after) if s.ends_at]
            if not lapsed:
                return expired
            expired += await self._expire_isolating(lapsed, trial)
            last = lapsed[-1]
            after = Cursor((last.ends_at,), last.id) if last.ends_at else None

    async def _expire_isolating(self, batch: Sequence[Subscription], trial: Plan) -> int:
        try:
            return await self._expire(batch, trial)
        except Unavailable:
            raise  # the database is away: the next run retries, no row is to blame
        except Exception:
            if len(batch) == 1:
                log.exception("subscription %s could not be expired; passed over until the next run", batch[0].id)
                return 0
            log.warning("a batch of %d expiries failed; retrying them one at a time", len(batch))
        expired = 0
        for subscription in batch:
            expired += await self._expire_isolating([subscription], trial)
        return expired

    async def _expire(self, batch: Sequence[Subscription], trial: Plan) -> int:
        async with self.uow() as uow:
            await uow.organizations.lock_many({s.organization_id for s in batch})
            ended = await uow.subscriptions.end_lapsed([s.id for s in batch])
            await uow.subscriptions.add_many(
                [
                    Subscription(
                        id=new_id(),
                        organization_id=s.organization_id,
                        plan=trial,
                        started_at=s.ends_at,
                        ends_at=None,
                    )
                    for s in batch
                    if s.id in ended and s.ends_at is not None
                ]
            )
            at = self.clock.now()
            await uow.outbox.record(
                *(subscription_event(EventType.SUBSCRIPTION_EXPIRED, s, at) for s in batch if s.id in ended)
            )
            await uow.commit()
        for s in batch:
            if s.id in ended:
                events.record(
                    "subscription_changed",
                    "subscription expired",
                    change="expired",
                    organization_id=str(s.organization_id),
                    plan=s.plan.code.value,
                )
        return len(ended)
