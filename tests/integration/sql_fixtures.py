"""Fixtures and factories for the SQL adapter tests, on SQLite and on PostgreSQL.

Registered as a pytest plugin by tests/conftest.py; the factories are imported directly. Each
module gets one migrated SQLite file, copied for every test, and one migrated PostgreSQL
database on the server of `postgres_url`, emptied before every test.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.plans import TRIAL
from tests.services import admin_execute
from vidplat.adapters.sql import SqlUnitOfWork, make_engine, make_session_factory, run_migrations
from vidplat.domain.accounts.model import Organization, RefreshToken, Role, Session, User, slugify
from vidplat.domain.billing.model import Plan, Subscription
from vidplat.domain.ids import new_id
from vidplat.domain.rewards.model import ViewCredit
from vidplat.domain.videos.model import Video, VideoStatus

__all__ = ["database_url", "db", "postgres_database", "sqlite_template"]

NOW = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
Entity = Organization | User | Session | RefreshToken | Subscription | Video | ViewCredit
_TENANT_TABLES = (
    "resumable_uploads, webhook_deliveries, webhook_events, webhook_endpoints, "
    "user_counts, video_counts, view_credits, videos, subscriptions, refresh_tokens, sessions, users, organizations"
)


@contextmanager
def sibling_postgres_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of server_url, dropped afterwards; yields its async URL."""
    name = f"vidplat_sql_{secrets.token_hex(6)}"
    asyncio.run(admin_execute(server_url, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin_execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    run_migrations(sqlite_url(path))
    return path


@pytest.fixture(scope="module")
def postgres_database(postgres_url: str) -> Iterator[str]:
    with sibling_postgres_database(postgres_url) as url:
        run_migrations(url)
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database of each backend (resolved here, outside the test's event loop)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_database"))
    path = tmp_path / "vidplat.db"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
    return sqlite_url(path)


async def ignore_changes(topics: Collection[str]) -> None:
    """A unit of work's publisher for tests that do not look at what it announces."""


@dataclass
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    announced: list[frozenset[str]] = field(default_factory=list)  # each commit's changed topics

    async def publish(self, topics: Collection[str]) -> None:
        self.announced.append(frozenset(topics))

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def uow(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, self.publish, read_only=read_only)

    async def seed(self, *entities: Entity) -> None:
        """Store the entities in one committed unit of work."""
        async with self.uow() as uow:
            for entity in entities:
                match entity:
                    case Organization():
                        await uow.organizations.add(entity)
                    case User():
                        await uow.users.add(entity)
                    case Session():
                        await uow.sessions.add(entity)
                    case RefreshToken():
                        await uow.refresh_tokens.add(entity)
                    case Subscription():
                        await uow.subscriptions.add(entity)
                    case Video():
                        await uow.videos.add(entity)
                    case ViewCredit():
                        assert await uow.credits.add_new([entity]) == [entity]
            await uow.commit()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    engine = make_engine(database_url)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {_TENANT_TABLES}"))
    yield Database(engine, make_session_factory(engine))
    await engine.dispose()


# --- factories: valid entities with overridable defaults --------------------------------


def make_org(name: str | None = None, *, created_at: datetime = NOW) -> Organization:
    name = name or f"Org {secrets.token_hex(4)}"
    return Organization(id=new_id(), name=name, slug=slugify(name), created_at=created_at)


def make_user(
    org: Organization,
    email: str | None = None,
    *,
    role: Role = Role.MEMBER,
    created_at: datetime = NOW,
    deleted_at: datetime | None = None,
) -> User:
    return User(
        id=new_id(),
        organization_id=org.id,
        email=email or f"user-{secrets.token_hex(4)}@example.com",
        role=role,
        password_hash="$argon2id$fake",
        created_at=created_at,
        deleted_at=deleted_at,
    )


def make_session(user: User, *, expires_at: datetime = NOW + timedelta(days=1)) -> Session:
    return Session(
        id=new_id(), user_id=user.id, organization_id=user.organization_id, created_at=NOW, expires_at=expires_at
    )


def make_refresh_token(session: Session, token_hash: str = "h" * 64) -> RefreshToken:
    return RefreshToken(id=new_id(), session_id=session.id, token_hash=token_hash, created_at=NOW)


def make_subscription(
    org: Organization, plan: Plan = TRIAL, *, started_at: datetime = NOW, ended_at: datetime | None = None
) -> Subscription:
    return Subscription(
        id=new_id(),
        organization_id=org.id,
        plan=plan,
        started_at=started_at,
        ends_at=plan.ends_at(started_at),
        ended_at=ended_at,
    )


def make_video(
    uploader: User,
    title: str = "A video",
    *,
    status: VideoStatus = VideoStatus.READY,
    created_at: datetime = NOW,
    deleted_at: datetime | None = None,
    pending_key: str | None = None,
) -> Video:
    return Video(
        id=new_id(),
        organization_id=uploader.organization_id,
        title=title,
        description=None,
        status=status,
        uploaded_by=uploader.id,
        created_at=created_at,
        updated_at=created_at,
        deleted_at=deleted_at,
        pending_key=pending_key,
    )


def make_credit(user: User, video_id: UUID, *, points: int = 10, awarded_at: datetime = NOW) -> ViewCredit:
    return ViewCredit(
        id=new_id(),
        organization_id=user.organization_id,
        user_id=user.id,
        video_id=video_id,
        points=points,
        awarded_at=awarded_at,
    )
