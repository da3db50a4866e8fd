"""The one place where database failures become domain errors.

`install` hooks SQLAlchemy's `handle_error` event, so every statement the engine runs
(flushes, explicit statements, COMMIT) and every DBAPI connect failure raises the domain
error it means: a unique violation is named by its constraint, a lost or refused connection
is `Unavailable`. `connecting` covers the connection failures that never reach the event.
Anything else keeps its SQLAlchemy exception: it is a bug, not a state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, Index, MetaData, UniqueConstraint, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from vidplat.adapters.sql.rows import Base
from vidplat.domain.errors import (
    DomainError,
    EmailTaken,
    OrganizationNameTaken,
    SlugTaken,
    SubscriptionConflict,
    Unavailable,
)

UNIQUE_KEYS: dict[str, type[DomainError]] = {
    "uq_organizations_name": OrganizationNameTaken,
    "uq_organizations_slug": SlugTaken,
    "uq_users_org_email": EmailTaken,
    "uq_subscriptions_one_current": SubscriptionConflict,
}

_SQLITE_UNIQUE = "UNIQUE constraint failed: "


def install(engine: AsyncEngine) -> None:
    """Make the engine raise domain errors for the failures that have a domain meaning."""
    event.listen(engine.sync_engine, "handle_error", _on_error)


@contextmanager
def connecting() -> Iterator[None]:
    """Wrap taking a connection: a pool timeout, or the OSError asyncpg raises for a refused or
    timed-out connection (not a DBAPI error), never reaches `handle_error`."""
    try:
        yield
    except (sa_exc.TimeoutError, OSError) as exc:
        raise Unavailable from exc


def _on_error(context: ExceptionContext) -> DomainError | None:
    if context.is_pre_ping:  # the pool reconnects by itself; a failure here is not the caller's
        return None
    error = context.original_exception
    if context.is_disconnect or context.connection is None or _is_locked(error):
        return Unavailable()
    if isinstance(context.sqlalchemy_exception, sa_exc.IntegrityError):
        kind = UNIQUE_KEYS.get(_violated_key(error) or "")
        return kind() if kind else None
    return None


def _is_locked(error: BaseException) -> bool:
    """SQLite gave up waiting for the write lock after its busy timeout."""
    return "database is locked" in str(error)


def _violated_key(error: BaseException) -> str | None:
    cause: BaseException | None = error
    while cause is not None:  # asyncpg names the constraint on the exception SQLAlchemy wraps
        if name := getattr(cause, "constraint_name", None):
            return str(name)
        cause = cause.__cause__
    message = str(error)
    if message.startswith(_SQLITE_UNIQUE):
        return _SQLITE_KEYS.get(message.removeprefix(_SQLITE_UNIQUE))
    return None


def _sqlite_keys(metadata: MetaData) -> dict[str, str]:
    """What SQLite's message says for each unique key: the index name when the key has
    expressions, otherwise the key's columns as `table.column, ...`."""
    keys: dict[str, str] = {}
    for table in metadata.tables.values():
        uniques: list[UniqueConstraint | Index] = [c for c in table.constraints if isinstance(c, UniqueConstraint)]
        uniques += [i for i in table.indexes if i.unique]
        for key in uniques:
            if isinstance(key, Index) and not all(isinstance(part, Column) for part in key.expressions):
                keys[f"index '{key.name}'"] = str(key.name)
            else:
                keys[", ".join(f"{table.name}.{column.name}" for column in key.columns)] = str(key.name)
    return keys


_SQLITE_KEYS = _sqlite_keys(Base.metadata)
