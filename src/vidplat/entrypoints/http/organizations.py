"""Organizations, plans and subscriptions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.errors import AdminRequired, OrganizationNameTaken, PlanNotFound, SignupClosed, SubscriptionConflict
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Limit, Offset, PageCursor, Uc, client_address, next_cursor, page
from vidplat.entrypoints.http.schemas import (
    OrganizationOut,
    PlanList,
    PlanOut,
    SignUpBody,
    SubscribeBody,
    SubscriptionOut,
    SubscriptionPage,
)
from vidplat.entrypoints.http.security import NO_TOKEN, PUBLIC, admin_only


class OrganizationController(Controller):
    path = "/api/v1"
    tags = ["organizations"]

    @post(
        "/organizations",
        opt={PUBLIC: True},
        security=NO_TOKEN,
        responses=problems(SignupClosed, OrganizationNameTaken, 422, 429),
        summary="Sign up: organization, first admin and TRIAL",
    )
    async def sign_up(self, data: JSONBody[SignUpBody], uc: Uc, request: Request[Any, Any, Any]) -> OrganizationOut:
        if not request.app.state.container.settings.signup_open:
            raise SignupClosed
        cmd = SignUpCommand(
            name=data.name,
            admin_email=data.admin_email,
            admin_password=data.admin_password,
            client_address=client_address(request),
        )
        return OrganizationOut.of(await uc.sign_up(cmd))

    @get("/organizations/me", responses=problems(401), summary="The caller's organization and its subscription")
    async def mine(self, uc: Uc, principal: Caller) -> OrganizationOut:
        return OrganizationOut.of(await uc.get_organization(principal))

    @get("/plans", opt={PUBLIC: True}, security=NO_TOKEN, responses=problems(), summary="Available plans")
    async def plans(self, uc: Uc) -> PlanList:
        return PlanList([PlanOut.of(plan) for plan in await uc.list_plans()])

    @post(
        "/organizations/me/subscription",
        guards=[admin_only],
        responses=problems(401, AdminRequired, PlanNotFound, SubscriptionConflict, 422),
        summary="Switch to or renew a paid plan",
    )
    async def subscribe(self, data: JSONBody[SubscribeBody], uc: Uc, principal: Caller) -> SubscriptionOut:
        return SubscriptionOut.of(await uc.subscribe(principal, data.plan))

    @get(
        "/organizations/me/subscriptions",
        guards=[admin_only],
        responses=problems(401, AdminRequired, 422),
        summary="Subscription history, newest first",
    )
    async def history(
        self, uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0, cursor: PageCursor = None
    ) -> SubscriptionPage:
        found = await uc.subscription_history(principal, page(limit, offset, cursor))
        items = [SubscriptionOut.of(s) for s in found.items]
        return SubscriptionPage(items, found.total, found.limit, found.offset, next_cursor(found))
