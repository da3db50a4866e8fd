"""`GET /metrics` for Prometheus, behind the operators' credentials, and the request metrics behind it.

Like the queue monitor, it takes HTTP Basic operator credentials, not a bearer token (the token
middleware excludes its path).
"""

from __future__ import annotations

from litestar import Response, Router, get
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import ControllerRouterHandler
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vidplat.adapters.metrics import registry
from vidplat.entrypoints.http.ops import basic_auth_guard
from vidplat.settings import Settings

METRICS_PATH = "/metrics"


@get("/", include_in_schema=False)
async def scrape() -> Response[bytes]:
    """Every metric of the server, added up over its worker processes in multiprocess mode."""
    return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)


def metrics_routes(settings: Settings) -> tuple[list[ControllerRouterHandler], list[DefineMiddleware]]:
    """The scrape route and the request-metrics middleware; neither unless operator credentials are set.

    Requests are counted by route template (`/api/v1/videos/{video_id:uuid}`), never by raw path.
    """
    if not settings.ops_user or not settings.ops_password:
        return [], []
    config = PrometheusConfig(app_name="vidplat", prefix="vidplat_http", group_path=True, exclude=[f"^{METRICS_PATH}$"])
    # Guarded on the router, so the route's automatic OPTIONS answer needs credentials too.
    guard = basic_auth_guard(settings.ops_user, settings.ops_password)
    router = Router(METRICS_PATH, route_handlers=[scrape], guards=[guard])
    return [router], [config.middleware]
