"""The PostgreSQL engine as the settings build it: pool bounds, and the PgBouncer (transaction mode) wiring."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.pool import NullPool, QueuePool

from tests.integration.sql_fixtures import ignore_changes
from tests.plans import TRIAL
from vidplat.adapters.sql import SqlUnitOfWork, make_engine, make_session_factory
from vidplat.bootstrap import bootstrap
from vidplat.domain.billing.model import PlanCode
from vidplat.settings import Settings


async def test_the_pool_bounds_come_from_the_settings(postgres_database: str) -> None:
    engine = make_engine(postgres_database, pool_size=3, max_overflow=0, pool_timeout=2)
    try:
        pool = engine.sync_engine.pool
        assert isinstance(pool, QueuePool)
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 0, 2)
    finally:
        await engine.dispose()


async def test_behind_pgbouncer_no_statement_is_cached_or_reused_by_name(postgres_database: str) -> None:
    engine = make_engine(postgres_database, pgbouncer=True)
    try:
        assert isinstance(engine.sync_engine.pool, NullPool)  # PgBouncer pools
        async with engine.connect() as connection:
            for _ in range(3):  # the same statement again: prepared afresh each time
                assert await connection.scalar(text("SELECT count(*) FROM plans")) == 2
            adapted = (await connection.get_raw_connection()).dbapi_connection
            assert adapted is not None
            assert adapted._prepared_statement_cache is None
            names = {adapted._prepared_statement_name_func() for _ in range(3)}
            assert len(names) == 3
            assert adapted.driver_connection._stmt_cache.get_max_size() == 0
        # And the unit of work works through it.
        async with SqlUnitOfWork(make_session_factory(engine), ignore_changes) as uow:
            assert await uow.plans.get(PlanCode.TRIAL) == TRIAL
    finally:
        await engine.dispose()


async def test_the_composition_root_builds_the_engine_the_settings_describe(
    postgres_database: str, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {
            "VIDPLAT_DATA_DIR": str(tmp_path),
            "VIDPLAT_DATABASE_URL": postgres_database,
            "VIDPLAT_JWT_SECRET": "j" * 40,
            "VIDPLAT_PLAYBACK_SECRET": "p" * 40,
            "VIDPLAT_DB_PGBOUNCER": "1",
        }
    )
    container = bootstrap(settings)
    try:
        assert isinstance(container.engine.sync_engine.pool, NullPool)
    finally:
        await container.engine.dispose()
