"""The Litestar application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme

from vidplat.bootstrap import Container
from vidplat.entrypoints.http.auth import AuthController
from vidplat.entrypoints.http.headers import SecurityHeaders
from vidplat.entrypoints.http.health import HealthController
from vidplat.entrypoints.http.ops import SIGNATURE_NAMESPACE, ops_routes
from vidplat.entrypoints.http.organizations import OrganizationController
from vidplat.entrypoints.http.problems import exception_handlers
from vidplat.entrypoints.http.security import authentication, provide_principal, provide_use_cases
from vidplat.entrypoints.http.streaming import StreamingController
from vidplat.entrypoints.http.tus import TusController
from vidplat.entrypoints.http.tus_headers import EXPOSED_HEADERS, add_tus_resumable
from vidplat.entrypoints.http.users import MeController, UserController
from vidplat.entrypoints.http.videos import VideoController

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
    app = Litestar(
        route_handlers=[
            HealthController,
            OrganizationController,
            AuthController,
            MeController,
            UserController,
            VideoController,
            StreamingController,
            TusController,
            *ops_handlers,
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
            render_plugins=[SwaggerRenderPlugin(path="/"), ScalarRenderPlugin(path="/scalar")],
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
            security=[{"BearerToken": []}],
        ),
        debug=False,
    )
    app.asgi_handler = SecurityHeaders(app.asgi_handler)  # around everything: 404s and CORS preflights too
    return app
