"""The unit of work: one AsyncSession, one transaction, every repository on it."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from functools import cached_property
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vidplat.adapters.sql.accounts import SqlOrganizationRepository, SqlUserRepository
from vidplat.adapters.sql.billing import SqlPlanRepository, SqlSubscriptionRepository
from vidplat.adapters.sql.errors import connecting
from vidplat.adapters.sql.resumable_uploads import SqlResumableUploadRepository
from vidplat.adapters.sql.rewards import SqlViewCreditRepository
from vidplat.adapters.sql.sessions import SqlRefreshTokenRepository, SqlSessionRepository
from vidplat.adapters.sql.videos import SqlVideoRepository
from vidplat.adapters.sql.webhooks import Recorded, SqlWebhookOutbox, SqlWebhookRepository
from vidplat.domain.ports import (
    OrganizationRepository,
    PlanRepository,
    RefreshTokenRepository,
    ResumableUploadRepository,
    SessionRepository,
    SubscriptionRepository,
    UserRepository,
    VideoRepository,
    ViewCreditRepository,
    WebhookOutbox,
    WebhookRepository,
)

log = logging.getLogger(__name__)

READ_ONLY = {"isolation_level": "AUTOCOMMIT"}
# Tells every process's read cache which topics a commit changed.
Publish = Callable[[Collection[str]], Awaitable[None]]
# Hands the webhook deliveries a commit recorded, (id, attempts made), to the job queue.
Deliver = Callable[[Sequence[tuple[UUID, int]]], Awaitable[None]]


class SqlUnitOfWork:
    """Leaving the block without commit() rolls back. The repositories exist inside the block only.

    Each repository is built on first use: most units of work touch one or two of them, and
    building advanced-alchemy's repository objects costs more than a cached request.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        publish: Publish,
        *,
        read_only: bool = False,
        deliver: Deliver | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._publish = publish
        self._read_only = read_only
        self._deliver = deliver
        self._session: AsyncSession | None = None
        self._changed: set[str] = set()  # topics (domain/topics.py) this transaction's writes touch
        self._recorded: Recorded = []  # webhook deliveries this transaction's events created

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        try:
            # Begin now: an unreachable database fails here as Unavailable, and on SQLite the
            # write lock is taken before the use case reads anything it might then change.
            with connecting():
                # A read-only unit of work runs each statement on its own: no BEGIN/ROLLBACK
                # round trips on PostgreSQL, and no write lock on SQLite.
                await session.connection(execution_options=READ_ONLY if self._read_only else None)
        except BaseException:
            await session.close()
            raise
        self._session = session
        return self

    @cached_property
    def organizations(self) -> OrganizationRepository:
        return SqlOrganizationRepository(self._open())

    @cached_property
    def users(self) -> UserRepository:
        return SqlUserRepository(self._open(), self._changed)

    @cached_property
    def sessions(self) -> SessionRepository:
        return SqlSessionRepository(self._open(), self._changed)

    @cached_property
    def refresh_tokens(self) -> RefreshTokenRepository:
        return SqlRefreshTokenRepository(self._open())

    @cached_property
    def plans(self) -> PlanRepository:
        return SqlPlanRepository(self._open())

    @cached_property
    def subscriptions(self) -> SubscriptionRepository:
        return SqlSubscriptionRepository(self._open())

    @cached_property
    def videos(self) -> VideoRepository:
        return SqlVideoRepository(self._open(), self._changed)

    @cached_property
    def credits(self) -> ViewCreditRepository:
        return SqlViewCreditRepository(self._open())

    @cached_property
    def outbox(self) -> WebhookOutbox:
        return SqlWebhookOutbox(self._open(), self._recorded)

    @cached_property
    def webhooks(self) -> WebhookRepository:
        return SqlWebhookRepository(self._open())

    @cached_property
    def resumable_uploads(self) -> ResumableUploadRepository:
        return SqlResumableUploadRepository(self._open())

    def _open(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("repository used outside the unit of work's block")
        return self._session

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()  # rolls back whatever was not committed

    async def commit(self) -> None:
        if self._session is None:
            raise RuntimeError("commit() outside the unit of work's block")
        if self._read_only:
            raise RuntimeError("commit() in a read-only unit of work")
        await self._session.commit()
        if self._changed:
            changed, self._changed = frozenset(self._changed), set()
            await self._publish(changed)
        if self._recorded and self._deliver is not None:
            recorded, self._recorded[:] = list(self._recorded), []
            try:
                await self._deliver(recorded)
            except Exception:
                # Committed all the same: the webhook sweep enqueues what is pending.
                log.warning("webhook deliveries not enqueued; the sweep will", exc_info=True)


class SqlUnitOfWorkFactory(Protocol):
    """Both a UnitOfWorkFactory and a WebhookUnitOfWorkFactory."""

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork: ...


def unit_of_work_factory(
    session_factory: async_sessionmaker[AsyncSession], publish: Publish, deliver: Deliver | None = None
) -> SqlUnitOfWorkFactory:
    """What the use cases receive: a fresh unit of work per call, announcing its changes on commit."""

    def make(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(session_factory, publish, read_only=read_only, deliver=deliver)

    return make
