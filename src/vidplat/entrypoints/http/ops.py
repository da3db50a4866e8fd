"""The operators' view of the job queue: SAQ's web monitor behind HTTP Basic credentials."""

from __future__ import annotations

import base64
import binascii
import hmac
import html
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any

import saq
from litestar import Response, Router, get
from litestar.connection import ASGIConnection
from litestar.di import Provide
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler, Guard
from litestar_saq.base import Job
from litestar_saq.config import TaskQueues
from litestar_saq.controllers import build_controller
from saq.types import QueueInfo

from vidplat.settings import Settings

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

OPS_PATH = "/ops/queues"
_STATIC = Path(saq.__file__).parent / "web" / "static"
_ASSETS = {"app.js": "text/javascript", "snabbdom.js.gz": "text/javascript", "pico.min.css.gz": "text/css"}
# The one inline script of litestar-saq's monitor page, exactly as it renders it (allowed by hash in the CSP).
OPS_SCRIPT = f'const root_path = "{html.escape(OPS_PATH)}";'
SIGNATURE_NAMESPACE = {"TaskQueues": TaskQueues, "Queue": saq.Queue, "QueueInfo": QueueInfo, "Job": Job}


def basic_auth_guard(user: str, password: str) -> Guard:
    expected = f"{user}:{password}".encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        scheme, _sep, encoded = connection.headers.get("authorization", "").partition(" ")
        try:
            given = base64.b64decode(encoded, validate=True) if scheme.lower() == "basic" else b""
        except (binascii.Error, ValueError):
            given = b""
        if not hmac.compare_digest(given, expected):
            raise NotAuthorizedException(headers={"WWW-Authenticate": 'Basic realm="vidplat ops"'})

    return guard


def ops_routes(settings: Settings, queue: saq.Queue | None) -> tuple[list[ControllerRouterHandler], dict[str, Provide]]:
    """The monitor's routes and dependencies; none unless Redis and operator credentials are configured."""
    if queue is None or not settings.ops_user or not settings.ops_password:
        return [], {}
    guard = basic_auth_guard(settings.ops_user, settings.ops_password)

    @get("/{name:str}", include_in_schema=False)
    async def asset(name: FromPath[str]) -> Response[bytes]:
        if name not in _ASSETS:
            raise NotFoundException
        headers = {"Content-Encoding": "gzip"} if name.endswith(".gz") else {}
        return Response((_STATIC / name).read_bytes(), media_type=_ASSETS[name], headers=headers)

    # Guarded on the router, so the route's automatic OPTIONS answer needs credentials too.
    assets = Router(f"{OPS_PATH}/static", route_handlers=[asset], guards=[guard])
    queues = TaskQueues(queues={queue.name: queue})
    return [build_controller(OPS_PATH, [guard]), assets], {"task_queues": Provide(lambda: queues, sync_to_thread=False)}


class OpsSlash:
    """`/ops/queues`, as operators type it, redirected to `/ops/queues/`: the monitor's page routes only that.

    Litestar serves the page at both paths, so only the raw path, seen here in front of the app, tells
    them apart. The app answers first, so a caller without credentials still gets its 401.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] != OPS_PATH:
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        location = f"{OPS_PATH}/".encode() + (b"?" + query if query else b"")
        redirected = False

        async def send_redirect(message: Message) -> None:
            nonlocal redirected
            if message["type"] == "http.response.start" and message["status"] == HTTPStatus.OK:
                redirected = True
                headers = [(b"location", location), (b"content-length", b"0")]
                message = {"type": "http.response.start", "status": HTTPStatus.PERMANENT_REDIRECT, "headers": headers}
            elif message["type"] == "http.response.body" and redirected:
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_redirect)
