"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from vidplat.bootstrap import Container
from vidplat.entrypoints.http.auth import AuthController
from vidplat.entrypoints.http.docs import ScalarPage, SwaggerPage, docs_assets, root
from vidplat.entrypoints.http.headers import SecurityHeaders
from vidplat.entrypoints.http.health import HealthController
from vidplat.entrypoints.http.hls import HlsController
from vidplat.entrypoints.http.insights import InsightsController
from vidplat.entrypoints.http.metrics import RequestMetrics, metrics_routes
from vidplat.entrypoints.http.openapi_descriptions import describe
from vidplat.entrypoints.http.ops import SIGNATURE_NAMESPACE, OpsSlash, ops_routes
from vidplat.entrypoints.http.organizations import OrganizationController
from vidplat.entrypoints.http.problems import exception_handlers
from vidplat.entrypoints.http.request_id import RequestId
from vidplat.entrypoints.http.security import authentication, provide_principal, provide_use_cases
from vidplat.entrypoints.http.streaming import StreamingController
from vidplat.entrypoints.http.tus import TusController
from vidplat.entrypoints.http.tus_headers import EXPOSED_HEADERS, add_tus_resumable
from vidplat.entrypoints.http.users import MeController, UserController
from vidplat.entrypoints.http.videos import VideoController
from vidplat.entrypoints.http.webhooks import WebhookController

API_DESCRIPTION = "Multi-tenant video platform: organizations, users, videos and view points."


def create_app(container: Container, *, run_schedules: bool = True) -> Litestar:
    """The HTTP API over an already wired container; the app starts and closes it."""

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        await container.start(run_schedules=run_schedules)
        try:
            yield
        finally:
            await container.close()

    settings = container.settings
    ops_handlers, ops_dependencies = ops_routes(settings, container.saq_queue)
    metrics_handlers = metrics_routes(settings)
    app = Litestar(
        route_handlers=[
            HealthController,
            OrganizationController,
            AuthController,
            MeController,
            UserController,
            VideoController,
            StreamingController,
            HlsController,
            WebhookController,
            TusController,
            *ops_handlers,
            *metrics_handlers,
            InsightsController,
            docs_assets(),
            root,
        ],
        state=State({"use_cases": container.use_cases, "checks": container.checks, "container": container}),
        dependencies={
            "uc": Provide(provide_use_cases, sync_to_thread=False),
            "principal": Provide(provide_principal, sync_to_thread=False),
            **ops_dependencies,
        },
        signature_namespace=SIGNATURE_NAMESPACE,
        middleware=[authentication],
        exception_handlers=exception_handlers,
        lifespan=[lifespan],
        before_send=[add_tus_resumable],
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins), expose_headers=EXPOSED_HEADERS)
        if settings.cors_origins
        else None,
        openapi_config=OpenAPIConfig(
            title="vidplat",
            version="1.0.0",
            description=API_DESCRIPTION,
            path="/docs",
            render_plugins=[SwaggerPage(), ScalarPage()],
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
        logging_config=None,  # the process configures logging once (entrypoints/logs.py), one format for all
    )
    describe(app)
    if ops_handlers:
        app.asgi_handler = OpsSlash(app.asgi_handler)
    app.asgi_handler = SecurityHeaders(app.asgi_handler)  # around everything: 404s and CORS preflights too
    if metrics_handlers:  # counted only where someone can read them
        app.asgi_handler = RequestMetrics(app.asgi_handler)
    app.asgi_handler = RequestId(app.asgi_handler)
    return app
