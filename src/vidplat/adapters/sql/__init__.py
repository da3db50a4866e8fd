"""Persistence on SQLAlchemy + advanced-alchemy: PostgreSQL (asyncpg) or SQLite (aiosqlite)."""

from vidplat.adapters.sql.engine import database_ready, make_engine, make_session_factory
from vidplat.adapters.sql.migrate import downgrade, run_migrations, run_migrations_async
from vidplat.adapters.sql.uow import SqlUnitOfWork, unit_of_work_factory

__all__ = [
    "SqlUnitOfWork",
    "database_ready",
    "downgrade",
    "make_engine",
    "make_session_factory",
    "run_migrations",
    "run_migrations_async",
    "unit_of_work_factory",
]
