"""Insights from the points ledger: who watched a video, and who leads the organization."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import VideoNotFound
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import UnitOfWorkFactory
from vidplat.domain.rewards.model import Standing, Viewer


@dataclass(frozen=True, slots=True)
class VideoViewers:
    """An admin's list of the active users credited for one of the organization's videos, newest first."""

    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, video_id: UUID, page: PageRequest) -> Page[Viewer]:
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            if await uow.videos.get(principal.organization_id, video_id) is None:
                raise VideoNotFound
            return await uow.credits.viewers(principal.organization_id, video_id, page)


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """The organization's active users by points, highest first; equal totals in a fixed order (by id)."""

    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[Standing]:
        async with self.uow(read_only=True) as uow:
            return await uow.users.leaderboard(principal.organization_id, page)
