"""Login, token refresh and logout."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.params import JSONBody

from vidplat.domain.accounts.auth import LoginCommand
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Uc, client_address
from vidplat.entrypoints.http.schemas import LoginBody, RefreshBody, TokensOut
from vidplat.entrypoints.http.security import NO_TOKEN, PUBLIC


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        opt={PUBLIC: True},
        security=NO_TOKEN,
        status_code=200,
        responses=problems(401, 422, 429),
        summary="Exchange credentials for tokens",
    )
    async def login(self, data: JSONBody[LoginBody], uc: Uc, request: Request[Any, Any, Any]) -> TokensOut:
        cmd = LoginCommand(
            organization=data.organization,
            email=data.email,
            password=data.password,
            client_address=client_address(request),
        )
        return TokensOut.of(await uc.login(cmd))

    @post(
        "/refresh",
        opt={PUBLIC: True},
        security=NO_TOKEN,
        status_code=200,
        responses=problems(401, 422),
        summary="Rotate the refresh token",
    )
    async def refresh(self, data: JSONBody[RefreshBody], uc: Uc) -> TokensOut:
        return TokensOut.of(await uc.refresh(data.refresh_token))

    @post("/logout", status_code=204, responses=problems(401), summary="Revoke the current session")
    async def logout(self, uc: Uc, principal: Caller) -> None:
        await uc.logout(principal)
