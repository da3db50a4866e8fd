"""`GET /metrics` for Prometheus, behind the operators' credentials, and the request metrics behind it.

Like the queue monitor, the route takes HTTP Basic operator credentials, not a bearer token (the
token middleware excludes its path). Requests are counted by a plain ASGI wrapper around the whole
app rather than by Litestar's Prometheus middleware: that one runs inside the routing, so an
error raised by a middleware after it (every 401 of the token middleware) is counted as a 200.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from litestar import Response, Router, get
from litestar.enums import ScopeType
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

from vidplat.adapters.metrics import registry
from vidplat.entrypoints.http.ops import basic_auth_guard
from vidplat.settings import Settings

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

METRICS_PATH = "/metrics"
UNROUTED = "(unrouted)"  # one label for every path no route matched: raw paths would be unbounded
_LABELS = ["method", "path", "status_code"]

REQUESTS = Counter("vidplat_http_requests", "HTTP requests answered, by route template and status", _LABELS)
REQUEST_SECONDS = Histogram(
    "vidplat_http_request_duration_seconds",
    "Time to answer an HTTP request, body included, by route template and status",
    _LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


@get("/", include_in_schema=False)
async def scrape() -> Response[bytes]:
    """Every metric of the server, added up over its worker processes in multiprocess mode."""
    return Response(generate_latest(registry()), headers={"Content-Type": CONTENT_TYPE_LATEST})


class RequestMetrics:
    """Counts and times each HTTP request by the template of the route that answered it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] == METRICS_PATH:
            await self.app(scope, receive, send)
            return
        status = 500  # if the app fails before it answers, the server does

        async def send_seen(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_seen)
        finally:
            # The router writes the matched template into the scope.
            labels = (scope["method"], scope.get("path_template") or UNROUTED, str(status))
            REQUESTS.labels(*labels).inc()
            REQUEST_SECONDS.labels(*labels).observe(time.perf_counter() - started)


def metrics_routes(settings: Settings) -> list[ControllerRouterHandler]:
    """The scrape route; none unless operator credentials are configured."""
    if not settings.ops_user or not settings.ops_password:
        return []
    # Guarded on the router, so the route's automatic OPTIONS answer needs credentials too.
    guard = basic_auth_guard(settings.ops_user, settings.ops_password)
    return [Router(METRICS_PATH, route_handlers=[scrape], guards=[guard])]
