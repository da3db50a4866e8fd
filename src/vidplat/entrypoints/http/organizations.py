"""Organizations, plans and subscriptions."""

from __future__ import annotations

from litestar import Controller, get, post

from vidplat.domain.accounts.model import Principal
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.use_cases import UseCases
from vidplat.entrypoints.http.params import Limit, Offset, page
from vidplat.entrypoints.http.schemas import (
    OrganizationOut,
    PlanList,
    PlanOut,
    SignUpBody,
    SubscribeBody,
    SubscriptionOut,
    SubscriptionPage,
)
from vidplat.entrypoints.http.security import PUBLIC, admin_only


class OrganizationController(Controller):
    path = "/api/v1"
    tags = ["organizations"]

    @post("/organizations", opt={PUBLIC: True}, summary="Sign up: organization, first admin and TRIAL")
    async def sign_up(self, data: SignUpBody, uc: UseCases) -> OrganizationOut:
        cmd = SignUpCommand(name=data.name, admin_email=data.admin_email, admin_password=data.admin_password)
        return OrganizationOut.of(await uc.sign_up(cmd))

    @get("/organizations/me", summary="The caller's organization and its subscription")
    async def mine(self, uc: UseCases, principal: Principal) -> OrganizationOut:
        return OrganizationOut.of(await uc.get_organization(principal))

    @get("/plans", opt={PUBLIC: True}, tags=["plans"], summary="Available plans")
    async def plans(self, uc: UseCases) -> PlanList:
        return PlanList([PlanOut.of(plan) for plan in await uc.list_plans()])

    @post("/organizations/me/subscription", guards=[admin_only], summary="Switch to or renew a paid plan")
    async def subscribe(self, data: SubscribeBody, uc: UseCases, principal: Principal) -> SubscriptionOut:
        return SubscriptionOut.of(await uc.subscribe(principal, data.plan))

    @get("/organizations/me/subscriptions", guards=[admin_only], summary="Subscription history, newest first")
    async def history(self, uc: UseCases, principal: Principal, limit: Limit, offset: Offset) -> SubscriptionPage:
        found = await uc.subscription_history(principal, page(limit, offset))
        return SubscriptionPage([SubscriptionOut.of(s) for s in found.items], found.total, found.limit, found.offset)
