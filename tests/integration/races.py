"""Two writers interleaved by explicit barriers, not by timing.

One writer stops at a Gap (inside its slow step, before its transaction begins, or just before
it writes back what it read); the other runs until it has committed or, on PostgreSQL, is
waiting for a row lock the first one holds (run_in_gap); then the first goes on. Without a row
lock the second commits inside the gap, which is the interleaving that loses an update; with
one it waits, and the test still ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import text

from tests.integration.conftest import eventually
from tests.integration.sql_fixtures import Database
from vidplat.adapters.security.passwords import Argon2Hasher
from vidplat.adapters.sql import SqlUnitOfWork
from vidplat.adapters.sql.accounts import SqlUserRepository
from vidplat.adapters.sql.videos import SqlVideoRepository
from vidplat.domain.ports import UnitOfWork, UnitOfWorkFactory, UserRepository, VideoRepository

if TYPE_CHECKING:
    from vidplat.domain.accounts.model import User, UserField
    from vidplat.domain.videos.model import Video, VideoField

T = TypeVar("T")
WITHIN = 30.0  # seconds a step may take before the test fails saying which


@dataclass
class Gap:
    """A barrier one writer stops at once: it signals `reached`, then waits for `resume`."""

    reached: asyncio.Event = field(default_factory=asyncio.Event)
    resume: asyncio.Event = field(default_factory=asyncio.Event)
    armed: bool = True

    async def stop(self) -> None:
        if self.armed:
            self.armed = False
            self.reached.set()
            await self.resume.wait()

    async def wait_reached(self, writer: asyncio.Future[Any] | None = None) -> None:
        """Until a writer stops here; if `writer` ends first, its own error, not a timeout."""
        reached = asyncio.ensure_future(self.reached.wait())
        waiting: set[asyncio.Future[Any]] = {reached} if writer is None else {reached, writer}
        try:
            await asyncio.wait(waiting, timeout=WITHIN, return_when=asyncio.FIRST_COMPLETED)
        finally:
            reached.cancel()
        if self.reached.is_set():
            return
        if writer is not None and writer.done():
            await writer  # raises what stopped it
            raise AssertionError("the writer finished without reaching the gap")
        raise TimeoutError(f"no writer reached the gap within {WITHIN} s")


class GapHasher:
    """Cheap real argon2 whose next verify stops at the gap: the slow step a racer overlaps."""

    def __init__(self, gap: Gap) -> None:
        self._argon2 = Argon2Hasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
        self.gap = gap

    async def hash(self, password: str) -> str:
        return await self._argon2.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        valid = await self._argon2.verify(password_hash, password)
        await self.gap.stop()
        return valid


class _GapUsers(SqlUserRepository):
    gap: Gap

    async def update(self, user: User, *fields: UserField) -> None:
        await self.gap.stop()
        await super().update(user, *fields)


class _GapVideos(SqlVideoRepository):
    gap: Gap

    async def update(self, video: Video, *fields: VideoField) -> None:
        await self.gap.stop()
        await super().update(video, *fields)


class _GapUnitOfWork(SqlUnitOfWork):
    gap: Gap

    @cached_property
    def users(self) -> UserRepository:
        users = _GapUsers(self._open(), self._changed)
        users.gap = self.gap
        return users

    @cached_property
    def videos(self) -> VideoRepository:
        videos = _GapVideos(self._open(), self._changed)
        videos.gap = self.gap
        return videos


def stopping_before_write(db: Database, gap: Gap) -> UnitOfWorkFactory:
    """A unit-of-work factory whose first user or video write stops at the gap, after all it has read."""

    def make(*, read_only: bool = False) -> UnitOfWork:
        uow = _GapUnitOfWork(db.sessions, db.publish, read_only=read_only)
        uow.gap = gap
        return uow

    return make


class _LateUnitOfWork(SqlUnitOfWork):
    gap: Gap

    async def __aenter__(self) -> Self:
        await asyncio.wait_for(self.gap.stop(), WITHIN)
        return await super().__aenter__()


def beginning_late(db: Database, gap: Gap) -> UnitOfWorkFactory:
    """A unit-of-work factory whose first transaction stops at the gap before it begins: a request delayed there."""

    def make(*, read_only: bool = False) -> UnitOfWork:
        uow = _LateUnitOfWork(db.sessions, db.publish, read_only=read_only)
        uow.gap = gap
        return uow

    return make


async def run_in_gap(db: Database, gap: Gap, paused: asyncio.Task[Any], other: Awaitable[T]) -> T:
    """Run `other` while `paused` waits at the gap, until it commits or waits for a lock; then resume."""
    await gap.wait_reached(paused)
    racer = asyncio.ensure_future(other)

    async def settled() -> bool | None:
        return True if racer.done() or await lock_waiters(db) else None

    await eventually(settled, within=WITHIN, what="the second writer committing or waiting for a row lock")
    gap.resume.set()
    await asyncio.wait_for(asyncio.gather(paused, racer, return_exceptions=True), WITHIN)
    return await racer


async def lock_waiters(db: Database) -> int:
    """How many sessions of the test's database are waiting for a lock (PostgreSQL)."""
    async with db.engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waiting or 0)
