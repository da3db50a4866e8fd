"""Alembic environment: async, for postgresql+asyncpg and sqlite+aiosqlite URLs."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from advanced_alchemy.types import GUID
from alembic import context
from alembic.runtime.migration import MigrationContext
from sqlalchemy import BINARY, NUMERIC, Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from vidplat.adapters.sql.engine import configure_sqlite
from vidplat.adapters.sql.rows import Base

# SAQ's Postgres queue keeps its own tables (saq_jobs, saq_stats, saq_versions) and migrates them itself.
FOREIGN_TABLE_PREFIXES = ("saq_",)
# Concurrent migrators (several processes starting at once) queue on this instead of racing.
MIGRATION_LOCK_KEY = 0x76_69_64_70  # "vidp"

config = context.config


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("VIDPLAT_DATABASE_URL")
    if not url:
        raise RuntimeError("No database URL: set VIDPLAT_DATABASE_URL, or run `vidplat migrate`.")
    return url


def include_object(obj: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
    if type_ == "index" and not _built_here(obj):
        return False
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_TABLE_PREFIXES))


def _built_here(index: Any) -> bool:
    """False for a model index declared for another dialect only (`ddl_if(dialect=...)`)."""
    only = getattr(getattr(index, "_ddl_if", None), "dialect", None)
    return only is None or only == context.get_context().dialect.name


def compare_type(
    context: MigrationContext, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """SQLite reflects GUID's BINARY(16) by type affinity, as NUMERIC(16): the same column."""
    if context.dialect.name == "sqlite" and isinstance(metadata_type, GUID):
        return not isinstance(inspected_type, (NUMERIC, BINARY))
    return None  # alembic's own comparison


def run_migrations(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        compare_type=compare_type,
        render_as_batch=sqlite,  # SQLite alters tables by copying them
        user_module_prefix="",  # script.py.mako imports GUID and DateTimeUTC by name
        transactional_ddl=True,  # on SQLite too: configure_sqlite below makes its DDL transactional
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(database_url(), poolclass=NullPool)
    if engine.dialect.name == "sqlite":
        # Foreign keys off: batch migrations drop and recreate tables that others reference.
        configure_sqlite(engine.sync_engine, foreign_keys=False)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


asyncio.run(run_async_migrations())
