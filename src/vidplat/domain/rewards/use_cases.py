"""View points: credit a user once per video, and show the ledger."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import UserNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import Clock, Lock, LockUnavailable, UnitOfWorkFactory
from vidplat.domain.rewards.model import ViewCredit

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CreditView:
    """Credit the first view of a video exactly once per (user, video).

    The lock keeps concurrent players of one user from racing; the database's unique
    (user, video) constraint is the fence that makes a double credit impossible even
    when the lock backend is down or a lock expired mid-way. Within one process, calls for
    the same view while one is under way wait for it instead of queueing on the lock.
    """

    uow: UnitOfWorkFactory
    lock: Lock
    clock: Clock
    points: int
    _under_way: dict[tuple[UUID, UUID], asyncio.Future[bool]] = field(default_factory=dict, init=False, repr=False)

    async def __call__(self, organization_id: UUID, user_id: UUID, video_id: UUID) -> bool:
        """True when this call credited the view.

        Callers check the ledger first (OpenStream does, in the read it needs anyway), so
        this goes straight to the lock and the idempotent insert.
        """
        key = (user_id, video_id)
        attempt = self._under_way.get(key)
        if attempt is not None:
            await asyncio.shield(attempt)
            return False
        attempt = self._under_way[key] = asyncio.ensure_future(self._locked(organization_id, user_id, video_id))
        attempt.add_done_callback(lambda _: self._under_way.pop(key, None))
        # Shielded: the player that started the attempt may hang up; the others still wait for it.
        return await asyncio.shield(attempt)

    async def _locked(self, organization_id: UUID, user_id: UUID, video_id: UUID) -> bool:
        try:
            async with self.lock.hold(f"credit:{user_id}:{video_id}"):
                return await self._credit(organization_id, user_id, video_id)
        except LockUnavailable:
            log.warning("view credit lock unavailable; relying on the database constraint")
            return await self._credit(organization_id, user_id, video_id)

    async def _credit(self, organization_id: UUID, user_id: UUID, video_id: UUID) -> bool:
        credit = ViewCredit(
            id=new_id(),
            organization_id=organization_id,
            user_id=user_id,
            video_id=video_id,
            points=self.points,
            awarded_at=self.clock.now(),
        )
        async with self.uow() as uow:
            if not await uow.credits.add_once(credit):
                return False
            await uow.users.add_points(user_id, credit.points)
            await uow.commit()
        return True


@dataclass(frozen=True, slots=True, kw_only=True)
class PointsStatement:
    total: int
    credits: Page[ViewCredit]


@dataclass(frozen=True, slots=True)
class ListMyPoints:
    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, page: PageRequest) -> PointsStatement:
        async with self.uow(read_only=True) as uow:
            user = await uow.users.get(principal.organization_id, principal.user_id)
            if user is None:
                raise UserNotFound
            return PointsStatement(total=user.points, credits=await uow.credits.list_for_user(user.id, page))
