"""The catalog: who sees what, metadata edits, soft delete and plan-gated restore."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.factories import Account, Tenant, World, make_video, subscribe_paid
from vidplat.adapters.local.cache import MemoryReadCache
from vidplat.domain import topics
from vidplat.domain.errors import AdminRequired, InvalidInput, PlanRequired, VideoNotDeleted, VideoNotFound
from vidplat.domain.pagination import PageRequest
from vidplat.domain.videos.catalog import (
    DeleteVideo,
    EditVideo,
    EditVideoCommand,
    GetVideo,
    ListDeletedVideos,
    ListVideos,
    RestoreVideo,
    VideoQuery,
)
from vidplat.domain.videos.model import Video, VideoStatus


def seed(world: World, tenant: Tenant, *, title: str = "Clip", status: VideoStatus = VideoStatus.READY) -> Video:
    world.clock.advance(seconds=1)
    video = make_video(tenant.admin.user, title=title, status=status, created_at=world.clock.now())
    world.store.insert(video)
    return video


async def test_members_see_ready_videos_only_in_lists_and_get(world: World, acme: Tenant, member: Account) -> None:
    ready = seed(world, acme, status=VideoStatus.READY)
    processing = seed(world, acme, status=VideoStatus.PROCESSING)
    failed = seed(world, acme, status=VideoStatus.FAILED)

    listed = await ListVideos(world.uow)(member.principal, VideoQuery(page=PageRequest(), status=VideoStatus.FAILED))

    assert ([v.id for v in listed.items], listed.total) == ([ready.id], 1)
    assert (await GetVideo(world.uow)(member.principal, ready.id)).id == ready.id
    for hidden in (processing, failed):
        with pytest.raises(VideoNotFound):
            await GetVideo(world.uow)(member.principal, hidden.id)


async def test_admins_see_every_status_newest_first_and_can_filter(world: World, acme: Tenant) -> None:
    ready = seed(world, acme, status=VideoStatus.READY)
    processing = seed(world, acme, status=VideoStatus.PROCESSING)
    failed = seed(world, acme, status=VideoStatus.FAILED)
    listing = ListVideos(world.uow)

    everything = await listing(acme.admin.principal, VideoQuery(page=PageRequest()))
    only_failed = await listing(acme.admin.principal, VideoQuery(page=PageRequest(), status=VideoStatus.FAILED))

    assert [v.id for v in everything.items] == [failed.id, processing.id, ready.id]
    assert [v.id for v in only_failed.items] == [failed.id]
    assert (await GetVideo(world.uow)(acme.admin.principal, processing.id)).status is VideoStatus.PROCESSING


async def test_title_search_is_case_insensitive_and_paginated(world: World, acme: Tenant) -> None:
    for n in range(4):
        seed(world, acme, title=f"Weekly Sync {n}")
    seed(world, acme, title="Offsite")

    page = await ListVideos(world.uow)(
        acme.admin.principal, VideoQuery(page=PageRequest(limit=3, offset=0), title="weekly SYNC")
    )

    assert (page.total, page.limit, page.offset, len(page.items)) == (4, 3, 0, 3)
    assert all("Weekly Sync" in v.title for v in page.items)


async def test_admin_edits_title_and_description(world: World, acme: Tenant) -> None:
    video = seed(world, acme)
    world.clock.advance(minutes=5)

    edited = await EditVideo(world.uow, world.clock)(
        acme.admin.principal, video.id, EditVideoCommand(title="  New title ", description="About it")
    )

    stored = world.store.videos[video.id]
    assert (stored.title, stored.description, stored.updated_at) == ("New title", "About it", world.clock.now())
    assert edited.title == "New title"


async def test_edit_rejects_an_empty_title_and_changes_nothing(world: World, acme: Tenant) -> None:
    video = seed(world, acme)

    with pytest.raises(InvalidInput):
        await EditVideo(world.uow, world.clock)(acme.admin.principal, video.id, EditVideoCommand(title=" "))

    assert world.store.videos[video.id].title == video.title


async def test_member_cannot_edit_delete_restore_or_list_the_trash(world: World, acme: Tenant, member: Account) -> None:
    video = seed(world, acme)
    me = member.principal
    attempts = [
        EditVideo(world.uow, world.clock)(me, video.id, EditVideoCommand(title="Mine")),
        DeleteVideo(world.uow, world.clock)(me, video.id),
        RestoreVideo(world.uow, world.clock)(me, video.id),
        ListDeletedVideos(world.uow)(me, PageRequest()),
    ]
    for attempt in attempts:
        with pytest.raises(AdminRequired):
            await attempt

    assert world.store.videos[video.id].title == video.title
    assert world.store.videos[video.id].deleted_at is None


async def test_soft_delete_hides_the_video_from_list_and_get_but_keeps_it(world: World, acme: Tenant) -> None:
    video = seed(world, acme)

    await DeleteVideo(world.uow, world.clock)(acme.admin.principal, video.id)

    assert world.store.videos[video.id].deleted_at == world.clock.now()
    assert (await ListVideos(world.uow)(acme.admin.principal, VideoQuery(page=PageRequest()))).total == 0
    with pytest.raises(VideoNotFound):
        await GetVideo(world.uow)(acme.admin.principal, video.id)
    trash = await ListDeletedVideos(world.uow)(acme.admin.principal, PageRequest())
    assert [v.id for v in trash.items] == [video.id]
    with pytest.raises(VideoNotFound):
        await DeleteVideo(world.uow, world.clock)(acme.admin.principal, video.id)


async def test_restore_on_trial_requires_a_plan(world: World, acme: Tenant) -> None:
    video = seed(world, acme)
    await DeleteVideo(world.uow, world.clock)(acme.admin.principal, video.id)

    with pytest.raises(PlanRequired):
        await RestoreVideo(world.uow, world.clock)(acme.admin.principal, video.id)

    assert world.store.videos[video.id].deleted_at is not None


async def test_restore_on_an_active_paid_plan_brings_the_video_back(world: World, acme: Tenant) -> None:
    video = seed(world, acme)
    await DeleteVideo(world.uow, world.clock)(acme.admin.principal, video.id)
    await subscribe_paid(world, acme)
    world.clock.advance(days=14)

    restored = await RestoreVideo(world.uow, world.clock)(acme.admin.principal, video.id)

    assert restored.deleted_at is None
    assert world.store.videos[video.id].deleted_at is None
    assert world.store.videos[video.id].updated_at == world.clock.now()
    assert (await GetVideo(world.uow)(acme.admin.principal, video.id)).id == video.id


async def test_restore_on_a_lapsed_paid_plan_requires_a_plan_before_the_expiry_job_runs(
    world: World, acme: Tenant
) -> None:
    video = seed(world, acme)
    await DeleteVideo(world.uow, world.clock)(acme.admin.principal, video.id)
    paid = await subscribe_paid(world, acme)
    assert paid.ends_at is not None
    world.clock.set(paid.ends_at)

    with pytest.raises(PlanRequired):
        await RestoreVideo(world.uow, world.clock)(acme.admin.principal, video.id)

    assert world.store.subscriptions[paid.id].ended_at is None
    assert world.store.videos[video.id].deleted_at is not None


async def test_restoring_a_video_that_is_not_deleted_is_not_found(world: World, acme: Tenant) -> None:
    video = seed(world, acme)
    await subscribe_paid(world, acme)

    with pytest.raises(VideoNotDeleted):
        await RestoreVideo(world.uow, world.clock)(acme.admin.principal, video.id)


async def test_the_total_is_counted_once_per_change_of_the_catalog_not_once_per_page(
    world: World, acme: Tenant
) -> None:
    for n in range(4):
        seed(world, acme, title=f"Clip {n}")
    cache = MemoryReadCache(world.clock, ttl=timedelta(seconds=10), max_weight=1000)
    listing = ListVideos(world.uow, cache)
    first = await listing(acme.admin.principal, VideoQuery(page=PageRequest(limit=2)))
    seed(world, acme, title="Unannounced")  # written behind the cache's back: no invalidation

    second = await listing(acme.admin.principal, VideoQuery(page=PageRequest(limit=2, offset=2)))
    assert (first.total, second.total) == (4, 4)  # the second page reused the count

    cache.invalidate([topics.videos(acme.org.id)])
    third = await listing(acme.admin.principal, VideoQuery(page=PageRequest(limit=2, offset=2)))
    assert third.total == 5
