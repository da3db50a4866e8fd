"""Real PostgreSQL and Redis for tests.

Order of preference: the URLs in VIDPLAT_TEST_DATABASE_URL / VIDPLAT_TEST_REDIS_URL,
then testcontainers when a Docker engine answers, else the tests that need the service
skip, or fail when VIDPLAT_TEST_REQUIRE_SERVICES=1 (CI), so a missing service can
never pass silently.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

REQUIRE_SERVICES = os.environ.get("VIDPLAT_TEST_REQUIRE_SERVICES") == "1"


def unavailable(service: str, reason: str) -> None:
    message = f"{service} is not available for tests: {reason}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (VIDPLAT_TEST_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(message)


@contextmanager
def _container(kind: str) -> Iterator[str]:
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception as exc:  # no engine: the caller skips or fails with this reason
        unavailable(kind, f"no VIDPLAT_TEST_{kind.upper()}_URL and no Docker engine ({exc.__class__.__name__})")
    if kind == "database":
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="asyncpg") as pg:
            yield pg.get_connection_url()
    else:
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as rd:
            yield f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(6379)}/0"


async def admin_execute(url: str, statement: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) on the server behind a SQLAlchemy URL."""
    import asyncpg

    parsed = make_url(url).set(drivername="postgresql")
    conn = await asyncpg.connect(parsed.render_as_string(hide_password=False))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def throwaway_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards; yields its SQLAlchemy async URL."""
    base = os.environ.get("VIDPLAT_TEST_DATABASE_URL")
    with _container("database") if not base else _nullcontext(base) as server_url:
        name = f"vidplat_test_{secrets.token_hex(6)}"
        try:
            asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}"'))
        except OSError as exc:
            unavailable("database", f"cannot connect to {make_url(server_url).host}: {exc}")
        url = make_url(server_url).set(drivername="postgresql+asyncpg", database=name)
        try:
            yield url.render_as_string(hide_password=False)
        finally:
            asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def throwaway_redis() -> Iterator[tuple[str, str]]:
    """A Redis URL and a fresh key prefix whose keys are deleted afterwards."""
    base = os.environ.get("VIDPLAT_TEST_REDIS_URL")
    with _container("redis") if not base else _nullcontext(base) as url:
        import redis

        prefix = f"vidplat_test_{secrets.token_hex(6)}"
        client = redis.Redis.from_url(url)
        try:
            client.ping()
        except redis.ConnectionError as exc:
            unavailable("redis", str(exc))
        try:
            yield url, prefix
        finally:
            for key in client.scan_iter(match=f"*{prefix}*", count=1000):
                client.delete(key)
            client.close()


@contextmanager
def _nullcontext(value: str) -> Iterator[str]:
    yield value
