"""Who is calling: bearer tokens, signed playback tokens, and the admin guard.

Every route is either marked public (`opt={"public": True}`) or authenticated here;
admin routes add `guards=[admin_only]`. A test checks every route is one or the other.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection, Request
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult, DefineMiddleware
from litestar.openapi.spec import SecurityRequirement
from structlog.contextvars import bind_contextvars

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import AdminRequired, InvalidToken
from vidplat.domain.use_cases import UseCases
from vidplat.domain.videos.playback import PlaybackPass
from vidplat.entrypoints.http.params import Uc

PUBLIC = "public"
PLAYBACK = "playback"
# The OpenAPI document's way to say an operation needs no credentials (it overrides the global bearer scheme).
NO_TOKEN: list[SecurityRequirement] = [{}]


class BearerAuthentication(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        use_cases: UseCases = connection.app.state.use_cases
        scheme, _, token = connection.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            principal = await use_cases.authenticate(token.strip())
            return _bound(AuthenticationResult(user=principal, auth=token))
        signed = connection.query_params.get("token")
        if signed and connection.route_handler.opt.get(PLAYBACK):
            video_id = connection.path_params.get("video_id")
            if isinstance(video_id, UUID):
                redeemed = await use_cases.redeem_playback(signed, video_id)
                return _bound(AuthenticationResult(user=redeemed.principal, auth=redeemed))
        raise InvalidToken


def _bound(result: AuthenticationResult) -> AuthenticationResult:
    """From here on, the request's log lines say who is calling."""
    principal: Principal = result.user
    bind_contextvars(organization_id=str(principal.organization_id), user_id=str(principal.user_id))
    return result


authentication = DefineMiddleware(
    BearerAuthentication, exclude_from_auth_key=PUBLIC, exclude=["^/docs", "^/ops/", "^/metrics$"]
)


async def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal: Principal | None = connection.scope.get("user")
    if principal is None:
        # OPTIONS skips authentication (CORS preflights); the automatic handler only answers `Allow`.
        if isinstance(connection, Request) and connection.method == "OPTIONS":
            return
        raise InvalidToken
    if not principal.is_admin:
        raise AdminRequired


def provide_principal(request: ASGIConnection[Any, Any, Any, Any], uc: Uc) -> Principal:
    """The authenticated caller.

    It takes `uc` only to be resolved after it: Litestar resolves dependencies of one level
    concurrently, in a task group per request, which costs more than both providers together.
    """
    principal: Principal = request.user
    return principal


def presented_pass(request: ASGIConnection[Any, Any, Any, Any]) -> PlaybackPass | None:
    """The playback token the caller came by; None for a bearer token."""
    return request.auth if isinstance(request.auth, PlaybackPass) else None


def provide_use_cases(request: ASGIConnection[Any, Any, Any, Any]) -> UseCases:
    use_cases: UseCases = request.app.state.use_cases
    return use_cases
