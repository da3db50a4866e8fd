"""The whole app over HTTP, once per wiring: embedded (SQLite, in-process) and production (Postgres, Redis, SAQ).

Litestar 2's AsyncTestClient runs the app (lifespan and requests) in the event loop of its own
blocking-portal thread, not in the test's loop. Everything the app owns (engine, Redis, queue)
lives there, so the production wiring's SAQ worker is started in that same loop, through the
portal; the test's own loop only drives requests and polls.
"""

from __future__ import annotations

import os
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
# Modules that set ALSO_ON_S3 = True run on the production wiring with S3 storage as well;
# VIDPLAT_TEST_STORAGE=s3 runs every API test on S3 instead of local files.
S3_EVERYWHERE = os.environ.get("VIDPLAT_TEST_STORAGE") == "s3"

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
    config.addinivalue_line("markers", "local_files: a behaviour of file:// storage only (nginx offload)")
    config.addinivalue_line("markers", "s3_only: a behaviour of S3 storage only (redirect delivery), on both wirings")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise `backend`: each wiring on local files, and on S3 where the module asks for it."""
    if "backend" not in metafunc.fixturenames:
        return
    local_only = metafunc.definition.get_closest_marker("local_files") is not None
    if metafunc.definition.get_closest_marker("s3_only") is not None or (S3_EVERYWHERE and not local_only):
        params = [f"{wiring}+s3" for wiring in WIRINGS]
    else:
        params = list(WIRINGS)
        if getattr(metafunc.module, "ALSO_ON_S3", False) and not local_only:
            params.append("production+s3")
    metafunc.parametrize("backend", params, indirect=True)


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


@pytest.fixture
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """The environment of one wiring; each test gets its own data dir, media dir (or S3 prefix) and Redis prefix."""
    wiring, _, storage = str(request.param).partition("+")
    env = {
        **CHEAP_ARGON2,
        "VIDPLAT_DATA_DIR": str(tmp_path / "data"),
        "VIDPLAT_MEDIA_DIR": str(tmp_path / "media"),
    }
    if storage == "s3":
        env |= request.getfixturevalue("s3_service").env()
    if wiring == "production":
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
    return Backend(wiring=wiring, env=env)


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
            storage=container.storage,
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
