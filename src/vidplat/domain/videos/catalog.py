"""Reading and curating the catalog: listings, metadata edits, trash and restore."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from vidplat.domain import topics
from vidplat.domain.accounts.model import Principal
from vidplat.domain.billing.queries import effective_plan
from vidplat.domain.errors import PlanRequired, VideoNotDeleted, VideoNotFound
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import Clock, ReadCache, UnitOfWork, UnitOfWorkFactory
from vidplat.domain.topics import NO_CACHE
from vidplat.domain.videos.model import Video, VideoStatus, clean_description, clean_title


async def visible_video(uow: UnitOfWork, principal: Principal, video_id: UUID, *, for_update: bool = False) -> Video:
    """A live video of the caller's organization; members only see ready ones."""
    return visible(principal, await uow.videos.get(principal.organization_id, video_id, for_update=for_update))


def visible(principal: Principal, video: Video | None) -> Video:
    if video is None or (not principal.is_admin and video.status is not VideoStatus.READY):
        raise VideoNotFound
    return video


async def cached_video(uow: UnitOfWorkFactory, cache: ReadCache, principal: Principal, video_id: UUID) -> Video:
    """visible_video, through the cache: the row is kept until a video of the organization changes."""
    org = principal.organization_id

    async def load() -> Video | None:
        async with uow(read_only=True) as unit:
            return await unit.videos.get(org, video_id)

    return visible(principal, await cache.get_or_load(("video", org, video_id), (topics.videos(org),), load))


@dataclass(frozen=True, slots=True)
class GetVideo:
    uow: UnitOfWorkFactory
    cache: ReadCache = NO_CACHE

    async def __call__(self, principal: Principal, video_id: UUID) -> Video:
        return await cached_video(self.uow, self.cache, principal, video_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoQuery:
    page: PageRequest
    status: VideoStatus | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ListVideos:
    """A page of the catalog, cached until a video of the organization changes.

    The total is cached on its own, per filter: walking the pages counts the rows once per change.
    """

    uow: UnitOfWorkFactory
    cache: ReadCache = NO_CACHE

    async def __call__(self, principal: Principal, query: VideoQuery) -> Page[Video]:
        status = query.status if principal.is_admin else VideoStatus.READY
        statuses = None if status is None else [status]
        org = principal.organization_id
        depends = (topics.videos(org),)

        async def count() -> int:
            async with self.uow(read_only=True) as uow:
                return await uow.videos.count(org, statuses=statuses, title_query=query.title)

        total = await self.cache.get_or_load(("videos-total", org, status, query.title), depends, count)

        async def load() -> Page[Video]:
            async with self.uow(read_only=True) as uow:
                return await uow.videos.list(org, query.page, statuses=statuses, title_query=query.title, total=total)

        page = query.page
        key = ("videos", org, status, query.title, page.limit, page.offset, page.after)
        return await self.cache.get_or_load(key, depends, load)


@dataclass(frozen=True, slots=True)
class ListDeletedVideos:
    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[Video]:
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            return await uow.videos.list(principal.organization_id, page, statuses=None, title_query=None, deleted=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class EditVideoCommand:
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class EditVideo:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, video_id: UUID, cmd: EditVideoCommand) -> Video:
        principal.require_admin()
        async with self.uow() as uow:
            video = await visible_video(uow, principal, video_id, for_update=True)
            if cmd.title is not None:
                video.title = clean_title(cmd.title)
            if cmd.description is not None:
                video.description = clean_description(cmd.description)
            video.updated_at = self.clock.now()
            await uow.videos.update(video, "title", "description", "updated_at")
            await uow.commit()
        return video


@dataclass(frozen=True, slots=True)
class DeleteVideo:
    """Soft delete: the video leaves listings and playback but keeps its files for restore."""

    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, video_id: UUID) -> None:
        principal.require_admin()
        async with self.uow() as uow:
            video = await visible_video(uow, principal, video_id, for_update=True)
            video.deleted_at = video.updated_at = self.clock.now()
            await uow.videos.update(video, "deleted_at", "updated_at")
            await uow.commit()


@dataclass(frozen=True, slots=True)
class RestoreVideo:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, video_id: UUID) -> Video:
        principal.require_admin()
        now = self.clock.now()
        async with self.uow() as uow:
            video = await uow.videos.get(principal.organization_id, video_id, deleted=True, for_update=True)
            if video is None:
                live = await uow.videos.get(principal.organization_id, video_id)
                raise VideoNotFound if live is None else VideoNotDeleted
            if not (await effective_plan(uow, principal.organization_id, now)).can_restore_videos:
                raise PlanRequired
            video.deleted_at, video.updated_at = None, now
            await uow.videos.update(video, "deleted_at", "updated_at")
            await uow.commit()
        return video
