"""Engines and sessions for PostgreSQL (asyncpg) and SQLite (aiosqlite)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import uuid4

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from vidplat.adapters.sql import errors
from vidplat.domain.errors import Unavailable

SQLITE_BUSY_TIMEOUT_MS = 30_000
READY_TIMEOUT_SECONDS = 3.0


def make_engine(
    url: str | URL,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    connect_timeout: float = 10.0,
    pgbouncer: bool = False,
) -> AsyncEngine:
    """An engine that raises domain errors (see errors.py); SQLite gets serialised writers.

    Pool settings apply to PostgreSQL; a SQLite file uses SQLAlchemy's default pool. With
    `pgbouncer` (PgBouncer in transaction mode in front of PostgreSQL) PgBouncer is the pool.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(parsed)
        configure_sqlite(engine.sync_engine)
    elif pgbouncer:
        engine = create_async_engine(parsed, poolclass=NullPool, connect_args=pgbouncer_connect_args(connect_timeout))
    else:
        connect_args: dict[str, Any] = {"timeout": connect_timeout} if parsed.get_driver_name() == "asyncpg" else {}
        # No pre-ping: it costs a round trip on every checkout, and a connection found dead
        # at use invalidates the pool (a 503 for that request) so the next checkout is fresh.
        engine = create_async_engine(
            parsed,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_timeout=pool_timeout,
            pool_recycle=1800,
            connect_args=connect_args,
        )
    errors.install(engine)
    return engine


def pgbouncer_connect_args(connect_timeout: float) -> dict[str, Any]:
    """asyncpg behind PgBouncer in transaction mode, as SQLAlchemy's asyncpg dialect documents it.

    Consecutive transactions of one client connection run on different server connections, so
    nothing may count on a statement prepared earlier: neither asyncpg nor SQLAlchemy caches
    them, and each gets a unique name, which no other client's statement on that server
    connection can already hold.
    """
    return {
        "timeout": connect_timeout,
        "statement_cache_size": 0,  # asyncpg's
        "prepared_statement_cache_size": 0,  # SQLAlchemy's
        "prepared_statement_name_func": _unique_statement_name,
    }


def _unique_statement_name() -> str:
    return f"__asyncpg_{uuid4()}__"


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Repositories return domain objects, so nothing reads rows after commit.
    return async_sessionmaker(engine, expire_on_commit=False)


def configure_sqlite(engine: Engine, *, foreign_keys: bool = True) -> None:
    """SQLAlchemy's documented pysqlite/aiosqlite recipe, with BEGIN IMMEDIATE.

    Every transaction takes SQLite's write lock when it begins, so concurrent units of work
    queue on the busy timeout instead of failing with SQLITE_BUSY when a reader upgrades
    to a writer. Taking over BEGIN from the driver also makes DDL transactional.
    """
    pragmas = [
        f"foreign_keys={'ON' if foreign_keys else 'OFF'}",
        "journal_mode=WAL",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ]

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not emit its own BEGIN
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            connection.exec_driver_sql("BEGIN IMMEDIATE")


async def database_ready(engine: AsyncEngine) -> bool:
    """True when the database answers SELECT 1 within a few seconds."""
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (TimeoutError, OSError, SQLAlchemyError, Unavailable):
        return False
    return True
