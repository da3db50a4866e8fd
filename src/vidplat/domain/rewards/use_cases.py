"""View points: credit a user once per video, and show the ledger."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from vidplat.domain import events
from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import UserNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import PageRequest, Slice
from vidplat.domain.ports import Clock, Lock, LockUnavailable, UnitOfWorkFactory
from vidplat.domain.rewards.model import ViewCredit

log = logging.getLogger(__name__)


MAX_BATCH = 256  # credits per transaction, which keeps each statement's parameters well bounded
# Under load, at most one batch per interval: a transaction costs about what fifty of its rows do,
# so fewer and larger batches leave the cores to playback. The credit is off the response's path:
# waiting this long is invisible to the player.
BATCH_INTERVAL_SECONDS = 0.1
CONTENDED_WAIT = timedelta(seconds=5)  # how long a view stays with another process's lock before going around it


@dataclass(slots=True)
class _Pending:
    credit: ViewCredit
    credited: asyncio.Future[bool]  # True when this attempt put the view in the ledger
    contended_since: datetime | None = None  # when a batch first found another process holding its lock

    @property
    def lock_key(self) -> str:
        return f"credit:{self.credit.user_id}:{self.credit.video_id}"

    def settle(self, credited: bool | BaseException) -> None:
        if self.credited.done():  # cancelled at shutdown
            return
        if isinstance(credited, BaseException):
            self.credited.set_exception(credited)
        else:
            self.credited.set_result(credited)


@dataclass(slots=True)
class _Batches:
    under_way: dict[tuple[UUID, UUID], _Pending] = field(default_factory=dict)  # every view not settled yet
    waiting: list[_Pending] = field(default_factory=list)  # those not in a batch yet, or to try again
    committing: asyncio.Task[None] | None = None
    last_started: float = float("-inf")  # event-loop time the latest batch started


@dataclass(frozen=True, slots=True)
class CreditView:
    """Credit the first view of a video exactly once per (user, video).

    The lock keeps concurrent players of one user from racing; the database's unique
    (user, video) constraint is the fence that makes a double credit impossible even
    when the lock backend is down or a lock expired mid-way.

    Views wait for the next batch, which takes them all: one lock round trip and one
    transaction for the lot. A lone view after a quiet spell waits for nothing; under load
    batches start at most `interval` seconds apart and grow with the load. Calls for a view
    already under way in this process share its attempt instead of queueing on the lock. A view
    whose lock another process holds (it is crediting it now) goes in the next batch again,
    until that lock is free or `contended_wait` has passed. A committed view's lock is left
    done, so that every process's later attempts at it end at the lock, without a transaction.
    """

    uow: UnitOfWorkFactory
    lock: Lock
    clock: Clock
    points: int
    max_batch: int = MAX_BATCH
    interval: float = BATCH_INTERVAL_SECONDS
    contended_wait: timedelta = CONTENDED_WAIT
    _batches: _Batches = field(default_factory=_Batches, init=False, repr=False)

    async def __call__(self, organization_id: UUID, user_id: UUID, video_id: UUID) -> bool:
        """True when this call credited the view; False when it was credited before or by a concurrent call."""
        key = (user_id, video_id)
        batches = self._batches
        under_way = batches.under_way.get(key)
        if under_way is not None:
            await asyncio.shield(under_way.credited)
            return False
        credit = ViewCredit(
            id=new_id(),
            organization_id=organization_id,
            user_id=user_id,
            video_id=video_id,
            points=self.points,
            awarded_at=self.clock.now(),
        )
        pending = batches.under_way[key] = _Pending(credit, asyncio.get_running_loop().create_future())
        pending.credited.add_done_callback(lambda _: batches.under_way.pop(key, None))
        batches.waiting.append(pending)
        if batches.committing is None:
            batches.committing = asyncio.create_task(self._commit_waiting())
        # Shielded: the player that asked first may hang up; the others still wait for its attempt.
        return await asyncio.shield(pending.credited)

    async def _commit_waiting(self) -> None:
        batches = self._batches
        loop = asyncio.get_running_loop()
        batch: list[_Pending] = []
        try:
            while batches.waiting:
                pause = batches.last_started + self.interval - loop.time()
                if pause > 0:
                    await asyncio.sleep(pause)
                batches.last_started = loop.time()
                batch, batches.waiting = batches.waiting[: self.max_batch], batches.waiting[self.max_batch :]
                await self._commit_batch(batch)
        except BaseException:
            # Cancelled (shutdown): nobody may wait for a batch that will never commit.
            for pending in (*batch, *batches.waiting):
                pending.credited.cancel()
            batches.waiting = []
            raise
        finally:
            batches.committing = None

    async def _commit_batch(self, batch: list[_Pending]) -> None:
        try:
            async with self.lock.hold_free([p.lock_key for p in batch]) as held:
                mine = [p for p in batch if p.lock_key in held.keys]
                if await self._insert(mine):
                    held.finished.update(p.lock_key for p in mine)  # other processes' attempts stop here
        except LockUnavailable:
            log.warning("view credit lock unavailable; relying on the database constraint")
            await self._insert(batch)
            return
        now, overdue = self.clock.now(), []
        for pending in batch:
            if pending.lock_key in held.keys:
                continue
            if pending.lock_key in held.done:  # credited in this or another process: no transaction
                pending.settle(False)
                continue
            pending.contended_since = pending.contended_since or now
            if now - pending.contended_since < self.contended_wait:
                self._batches.waiting.append(pending)  # the holder is crediting it: ask again next batch
            else:
                overdue.append(pending)
        if overdue:  # a holder that crashed keeps its lease until the TTL: the constraint still fences
            log.warning("view credit lock held elsewhere too long; relying on the database constraint")
            await self._insert(overdue)

    async def _insert(self, batch: list[_Pending]) -> bool:
        """Credit the batch in one transaction and settle each view with the outcome; False if it failed."""
        if not batch:
            return True
        try:
            async with self.uow() as uow:
                added = await uow.credits.add_new([p.credit for p in batch])
                if added:
                    points: Counter[UUID] = Counter()
                    for credit in added:
                        points[credit.user_id] += credit.points
                    await uow.users.add_points(points)
                    await uow.commit()
        except Exception as exc:  # handed to every caller of the batch: OpenStream logs it and plays on
            for pending in batch:
                pending.settle(exc)
            return False
        inserted = {credit.id for credit in added}
        if inserted:  # DEBUG: one line per batch would drown the log under load; metrics count them
            events.record("views_credited", "views credited", level=logging.DEBUG, count=len(inserted))
        for pending in batch:
            pending.settle(pending.credit.id in inserted)
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class PointsStatement:
    total: int
    credits: Slice[ViewCredit]


@dataclass(frozen=True, slots=True)
class ListMyPoints:
    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, page: PageRequest) -> PointsStatement:
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(principal.organization_id, principal.user_id)
            if user is None:
                raise UserNotFound
            return PointsStatement(total=user.points, credits=await uow.credits.list_for_user(user.id, page))
