"""Fixtures for the integration tests that drive the wired application on PostgreSQL + Redis.

Each test gets its own migrated PostgreSQL database (cloned from a template migrated once per
session, so a test never sees another's rows), its own Redis key prefix (so its own SAQ queue
and lock keys), its own media directory, and containers built by `bootstrap()` from Settings
exactly as the API and the worker build theirs. The SQL adapter tests keep their own fixtures
in sql_fixtures.py; nothing here shadows them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.services import admin_execute
from vidplat.adapters.saq.queue import RetryPolicy
from vidplat.adapters.sql.migrate import run_migrations
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.model import Principal
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.ports import Clock, PasswordHasher
from vidplat.settings import Settings

T = TypeVar("T")

PASSWORD = "correct horse battery staple"
JWT_SECRET = "integration-jwt-secret-" + "j" * 32
PLAYBACK_SECRET = "integration-playback-secret-" + "p" * 32


class SettableClock:
    """A Clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    @classmethod
    def starting_now(cls, offset: timedelta = timedelta(0)) -> SettableClock:
        return cls(datetime.now(UTC) + offset)


@pytest.fixture(scope="session")
def migrated_template(postgres_url: str) -> Iterator[str]:
    """The name of a database migrated to head once, that every test's database is cloned from."""
    name = f"vidplat_tpl_{secrets.token_hex(6)}"
    asyncio.run(admin_execute(postgres_url, f'CREATE DATABASE "{name}"'))
    try:
        run_migrations(make_url(postgres_url).set(database=name).render_as_string(hide_password=False))
        yield name
    finally:
        asyncio.run(admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def app_database(postgres_url: str, migrated_template: str) -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test alone; yields its SQLAlchemy async URL."""
    name = f"vidplat_it_{secrets.token_hex(6)}"
    await admin_execute(postgres_url, f'CREATE DATABASE "{name}" TEMPLATE "{migrated_template}"')
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        await admin_execute(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Platform:
    """One test's deployment: its database, Redis prefix and media directory, and its processes."""

    database_url: str
    redis_url: str
    redis_prefix: str
    data_dir: Path
    _containers: list[Container] = field(default_factory=list)
    _engine: AsyncEngine | None = None

    def env(self, **overrides: str) -> dict[str, str]:
        """The VIDPLAT_* environment a process of this deployment reads."""
        return {
            "VIDPLAT_DATABASE_URL": self.database_url,
            "VIDPLAT_REDIS_URL": self.redis_url,
            "VIDPLAT_REDIS_PREFIX": self.redis_prefix,
            "VIDPLAT_DATA_DIR": str(self.data_dir),
            "VIDPLAT_MEDIA_DIR": str(self.data_dir / "media"),
            "VIDPLAT_JWT_SECRET": JWT_SECRET,
            "VIDPLAT_PLAYBACK_SECRET": PLAYBACK_SECRET,
            "VIDPLAT_ARGON2_TIME_COST": "1",
            "VIDPLAT_ARGON2_MEMORY_KIB": "1024",
            "VIDPLAT_ARGON2_PARALLELISM": "1",
            **{f"VIDPLAT_{name.upper()}": value for name, value in overrides.items()},
        }

    def settings(self, **overrides: str) -> Settings:
        return Settings.from_env(self.env(**overrides))

    def container(
        self,
        *,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
        job_policy: RetryPolicy | None = None,
        **overrides: str,
    ) -> Container:
        """A wired, not yet started container; whoever starts it (a test, an app, a worker) closes it."""
        return bootstrap(self.settings(**overrides), clock=clock, hasher=hasher, job_policy=job_policy)

    async def started(
        self,
        *,
        clock: Clock | None = None,
        hasher: PasswordHasher | None = None,
        job_policy: RetryPolicy | None = None,
        **overrides: str,
    ) -> Container:
        """A started container, closed when the test ends (one per 'process' of the deployment)."""
        container = self.container(clock=clock, hasher=hasher, job_policy=job_policy, **overrides)
        await container.start(run_schedules=False)
        self._containers.append(container)
        return container

    async def sign_up(self, container: Container, name: str, email: str = "admin@example.com") -> Principal:
        """Sign an organization up and log its first admin in; returns the admin as the API would see them."""
        org = await container.use_cases.sign_up(SignUpCommand(name=name, admin_email=email, admin_password=PASSWORD))
        return await self.log_in(container, org.organization.slug, email)

    async def log_in(self, container: Container, organization: str, email: str) -> Principal:
        tokens = await container.use_cases.login(
            LoginCommand(organization=organization, email=email, password=PASSWORD)
        )
        return await container.use_cases.authenticate(tokens.access_token)

    async def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """Read the database directly: what actually got committed, not what a use case says."""
        if self._engine is None:
            self._engine = create_async_engine(self.database_url, pool_size=2)
        async with self._engine.connect() as connection:
            result = await connection.execute(text(sql), params)
            return [tuple(row) for row in result.all()]

    async def scalar(self, sql: str, **params: Any) -> Any:
        rows = await self.rows(sql, **params)
        assert len(rows) == 1, f"expected one row from {sql!r}, got {rows!r}"
        return rows[0][0]

    async def close(self) -> None:
        for container in reversed(self._containers):
            await container.close()
        self._containers.clear()
        if self._engine is not None:
            await self._engine.dispose()


@pytest.fixture
async def platform(app_database: str, redis_service: tuple[str, str], tmp_path: Path) -> AsyncIterator[Platform]:
    redis_url, session_prefix = redis_service
    # Under the session's prefix, which the redis_service fixture sweeps at the end.
    deployment = Platform(app_database, redis_url, f"{session_prefix}:{secrets.token_hex(4)}", tmp_path)
    try:
        yield deployment
    finally:
        await deployment.close()


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    every: float = 0.1,
    what: str | Callable[[], str] = "the condition",
) -> T:
    """Poll until probe returns something other than None, failing after `within` seconds.

    `what` names the awaited event in the failure; a callable is asked only then (e.g. to read a log).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await probe()
        if value is not None:
            return value
        if loop.time() >= deadline:
            raise AssertionError(f"{what if isinstance(what, str) else what()} did not happen within {within} s")
        await asyncio.sleep(every)
