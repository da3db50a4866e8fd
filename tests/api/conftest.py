"""The whole app over HTTP, once per wiring: embedded (SQLite, in-process) and production (Postgres, Redis, SAQ).

Litestar 2's AsyncTestClient runs the app (lifespan and requests) in the event loop of its own
blocking-portal thread, not in the test's loop. Everything the app owns (engine, Redis, queue)
lives there, so the production wiring's SAQ worker is started in that same loop, through the
portal; the test's own loop only drives requests and polls.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tests.api.harness import FAST_RETRIES, BackgroundWorker
from tests.api.helpers import Api
from tests.clock import ShiftableClock
from tests.services import throwaway_database
from vidplat.adapters.sql.migrate import run_migrations, run_migrations_async
from vidplat.adapters.sql.rows import Base
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.settings import Settings

WIRINGS = ("embedded", "production")

# Cheap hashing: argon2 at its defaults would dominate the run time.
CHEAP_ARGON2 = {
    "VIDPLAT_ARGON2_TIME_COST": "1",
    "VIDPLAT_ARGON2_MEMORY_KIB": "1024",
    "VIDPLAT_ARGON2_PARALLELISM": "1",
}
# Reference data seeded by the migrations; everything else is emptied between tests.
KEPT_TABLES = frozenset({"plans"})


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "api_settings(**env): extra VIDPLAT_* variables for the `api` fixture")


@dataclass(frozen=True, slots=True)
class Backend:
    wiring: str
    env: dict[str, str]


@pytest.fixture(scope="session")
def api_database() -> Iterator[str]:
    """One migrated PostgreSQL database for the production-wiring API tests, emptied before each test."""
    with throwaway_database() as url:
        run_migrations(url)
        yield url


@pytest.fixture(params=WIRINGS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The environment of one wiring; each test gets its own data dir, media dir and Redis prefix."""
    env = {
        **CHEAP_ARGON2,
        "VIDPLAT_DATA_DIR": str(tmp_path / "data"),
        "VIDPLAT_MEDIA_DIR": str(tmp_path / "media"),
    }
    if request.param == "production":
        redis_url, prefix = request.getfixturevalue("redis_service")
        env |= {
            "VIDPLAT_DATABASE_URL": request.getfixturevalue("api_database"),
            "VIDPLAT_REDIS_URL": redis_url,
            "VIDPLAT_REDIS_PREFIX": f"{prefix}-{uuid4().hex[:8]}",
            "VIDPLAT_JWT_SECRET": secrets.token_urlsafe(48),
            "VIDPLAT_PLAYBACK_SECRET": secrets.token_urlsafe(48),
            "VIDPLAT_WEBHOOKS_KEY": secrets.token_urlsafe(48),
        }
    marker = request.node.get_closest_marker("api_settings")
    if marker is not None:
        env |= {name: str(value) for name, value in marker.kwargs.items()}
    return Backend(wiring=str(request.param), env=env)


@pytest.fixture
async def api(backend: Backend, tmp_path: Path) -> AsyncIterator[Api]:
    """The wired app behind an AsyncTestClient (entering it runs the lifespan), with its worker if any."""
    settings = Settings.from_env(backend.env)
    if settings.uses_sqlite:
        await run_migrations_async(settings.database_url)
    else:
        await _empty_tables(settings.database_url)
    clock = ShiftableClock()
    container = bootstrap(settings, clock=clock, job_policy=FAST_RETRIES)
    app = create_app(container, run_schedules=False)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    async with AsyncTestClient(app) as client:
        api = Api(
            client=client,
            container=container,
            clock=clock,
            wiring=backend.wiring,
            media_dir=settings.media_dir,
            scratch_dir=scratch,
        )
        if not settings.embedded:
            api.worker = BackgroundWorker(settings, client.blocking_portal)
            api.worker.start()
        try:
            yield api
        finally:
            if api.worker is not None:
                await api.worker.stop()


async def _empty_tables(url: str) -> None:
    tables = [table.name for table in Base.metadata.sorted_tables if table.name not in KEPT_TABLES]
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    finally:
        await engine.dispose()
