"""Read-side helpers: the effective plan and the organization overview."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from vidplat.domain.accounts.model import Organization
from vidplat.domain.billing.model import Plan, PlanCode, Subscription, Usage
from vidplat.domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionState:
    """A subscription with its `active` flag computed at read time."""

    subscription: Subscription
    active: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class OrganizationOverview:
    organization: Organization
    subscription: SubscriptionState | None
    usage: Usage


def state(subscription: Subscription, now: datetime) -> SubscriptionState:
    return SubscriptionState(subscription=subscription, active=subscription.is_active(now))


def overview(
    organization: Organization, subscription: Subscription | None, usage: Usage, now: datetime
) -> OrganizationOverview:
    return OrganizationOverview(
        organization=organization, subscription=None if subscription is None else state(subscription, now), usage=usage
    )


async def trial_plan(uow: UnitOfWork) -> Plan:
    plan = await uow.plans.get(PlanCode.TRIAL)
    if plan is None:
        raise RuntimeError("the plans are missing: run `vidplat migrate`, which seeds them")
    return plan


async def effective_plan(uow: UnitOfWork, organization_id: UUID, now: datetime) -> Plan:
    """What the organization may do now: a lapsed paid plan grants nothing even before expiry runs."""
    current = await uow.subscriptions.current(organization_id)
    if current is not None and current.is_active(now):
        return current.plan
    return await trial_plan(uow)
