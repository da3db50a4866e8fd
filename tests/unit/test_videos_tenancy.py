"""Another organization's video is simply not there: VideoNotFound from every video use case."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID

import pytest

from tests.unit.factories import Tenant, World, mp4_bytes, publish_video, stream, subscribe_paid
from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import VideoNotFound
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
from vidplat.domain.videos.playback import GetThumbnail, IssuePlayback, OpenStream, ViewCredits
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile

UseCase = Callable[[World, Principal, UUID], Awaitable[object]]

USE_CASES: dict[str, UseCase] = {
    "get": lambda w, p, v: GetVideo(w.uow)(p, v),
    "edit": lambda w, p, v: EditVideo(w.uow, w.clock)(p, v, EditVideoCommand(title="Mine now")),
    "delete": lambda w, p, v: DeleteVideo(w.uow, w.clock)(p, v),
    "replace": lambda w, p, v: ReplaceVideoFile(w.uow, w.uploads(), w.clock)(
        p, v, ReplaceCommand(title=None, description=None, chunks=stream(mp4_bytes()))
    ),
    "playback": lambda w, p, v: IssuePlayback(w.uow, w.signer, w.clock, timedelta(minutes=5))(p, v),
    "stream": lambda w, p, v: OpenStream(w.uow, w.storage, ViewCredits(w.credit(), background=w.background))(p, v),
    "thumbnail": lambda w, p, v: GetThumbnail(w.uow, w.storage)(p, v),
}


@pytest.mark.parametrize("name", USE_CASES)
async def test_another_tenants_video_is_not_found(world: World, acme: Tenant, globex: Tenant, name: str) -> None:
    theirs = await publish_video(world, globex.admin.principal)
    before = vars(world.store.videos[theirs.id]).copy()
    files = dict(world.storage.files)

    with pytest.raises(VideoNotFound):
        await USE_CASES[name](world, acme.admin.principal, theirs.id)
    await world.background.settled()

    assert vars(world.store.videos[theirs.id]) == before
    assert world.storage.files == files
    assert not world.jobs.enqueued
    assert not world.store.credits


async def test_another_tenants_deleted_video_cannot_be_restored(world: World, acme: Tenant, globex: Tenant) -> None:
    theirs = await publish_video(world, globex.admin.principal)
    await DeleteVideo(world.uow, world.clock)(globex.admin.principal, theirs.id)
    await subscribe_paid(world, acme)

    with pytest.raises(VideoNotFound):
        await RestoreVideo(world.uow, world.clock)(acme.admin.principal, theirs.id)

    assert world.store.videos[theirs.id].deleted_at is not None


async def test_listings_show_only_the_callers_organization(world: World, acme: Tenant, globex: Tenant) -> None:
    mine = await publish_video(world, acme.admin.principal)
    theirs = await publish_video(world, globex.admin.principal)
    gone = await publish_video(world, globex.admin.principal)
    await DeleteVideo(world.uow, world.clock)(globex.admin.principal, gone.id)

    listed = await ListVideos(world.uow)(acme.admin.principal, VideoQuery(page=PageRequest()))
    trash = await ListDeletedVideos(world.uow)(acme.admin.principal, PageRequest())

    assert [v.id for v in listed.items] == [mine.id]
    assert theirs.id not in {v.id for v in listed.items}
    assert trash.total == 0
