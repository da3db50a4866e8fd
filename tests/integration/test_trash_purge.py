"""Trash retention on the real unit of work: purged videos free their storage, keep their credits."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.sql_fixtures import (
    NOW,
    Database,
    make_credit,
    make_org,
    make_subscription,
    make_user,
    make_video,
)
from tests.plans import PAID
from tests.unit.fakes import FakeClock
from vidplat.adapters.storage.local import LocalStorage
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.billing import quota
from vidplat.domain.billing.model import Usage
from vidplat.domain.errors import VideoNotFound
from vidplat.domain.pagination import PageRequest
from vidplat.domain.videos.catalog import ListDeletedVideos, RestoreVideo
from vidplat.domain.videos.keys import hls_prefix
from vidplat.domain.videos.model import Video
from vidplat.domain.videos.purge import PurgeTrash
from vidplat.domain.videos.renditions import Rendition

RETENTION = timedelta(days=30)


RENDITION = Rendition(name="240p", width=426, height=240, max_bitrate=400_000)


async def _stored(storage: LocalStorage, video: Video, size: int) -> Video:
    """Give the video a served file, a thumbnail and renditions that exist in the store."""
    video.storage_key = f"orgs/{video.organization_id}/videos/{video.id}/{video.id}"
    video.thumbnail_key, video.size_bytes = f"{video.storage_key}.jpg", size
    video.renditions = (RENDITION,)
    await storage.put_bytes(video.storage_key, b"v" * size)
    await storage.put_bytes(video.thumbnail_key, b"jpg")
    for name in HLS_FILES:
        await storage.put_bytes(hls_prefix(video.storage_key) + name, b"hls")
    return video


HLS_FILES = ("master.m3u8", "240p/index.m3u8", "240p/init.mp4", "240p/seg_00000.m4s")


def _objects(video: Video) -> set[str]:
    assert video.storage_key is not None
    return {video.storage_key, f"{video.storage_key}.jpg"} | {hls_prefix(video.storage_key) + n for n in HLS_FILES}


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


async def test_purge_removes_expired_trash_frees_its_storage_and_keeps_its_credits(
    db: Database, storage: LocalStorage
) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    expired = await _stored(storage, make_video(admin, deleted_at=NOW - RETENTION - timedelta(seconds=1)), 100)
    recent = await _stored(storage, make_video(admin, deleted_at=NOW - RETENTION + timedelta(hours=1)), 20)
    live = await _stored(storage, make_video(admin), 3)
    credit = make_credit(admin, expired.id)
    await db.seed(org, admin, make_subscription(org, PAID), expired, recent, live, credit)
    async with db.uow() as uow:
        await uow.users.add_points({admin.id: 10})
        await uow.commit()
    clock = FakeClock(NOW)

    assert await PurgeTrash(db.uow, storage, clock, RETENTION)() == 1

    assert {o.key async for o in storage.list("orgs/")} == _objects(recent) | _objects(live)
    async with db.uow(read_only=True) as uow:
        assert await quota.usage(uow, org.id) == Usage(storage_bytes=23, users=1)
        tombstone = await uow.videos.get_any(expired.id)
        assert tombstone is not None
        assert (tombstone.purged_at, tombstone.storage_key, tombstone.thumbnail_key) == (NOW, None, None)
        assert tombstone.renditions == ()
        credits = await uow.credits.list_for_user(admin.id, PageRequest(limit=10, offset=0))
        assert [c.video_id for c in credits.items] == [expired.id]
        user = await uow.users.get(org.id, admin.id)
        assert user is not None
        assert user.points == 10
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN, session_id=admin.id)
    trash = await ListDeletedVideos(db.uow)(principal, PageRequest(limit=10, offset=0))
    assert ([v.id for v in trash.items], trash.total) == ([recent.id], 1)
    with pytest.raises(VideoNotFound):
        await RestoreVideo(db.uow, clock)(principal, expired.id)
    assert await PurgeTrash(db.uow, storage, clock, RETENTION)() == 0  # once


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_purge_skips_a_video_another_purge_holds_and_each_video_is_purged_once(
    db: Database, storage: LocalStorage
) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    old = NOW - RETENTION - timedelta(days=1)
    held, free = make_video(admin, deleted_at=old), make_video(admin, deleted_at=old)
    await db.seed(org, admin, await _stored(storage, held, 5), await _stored(storage, free, 7))
    purge = PurgeTrash(db.uow, storage, FakeClock(NOW), RETENTION)

    async with db.uow() as other:  # another worker's purge, holding its batch
        assert await other.videos.get_any(held.id, for_update=True) is not None
        assert await asyncio.wait_for(purge(), timeout=30) == 1  # does not wait for the held row
        async with db.uow(read_only=True) as uow:
            assert await uow.videos.storage_bytes(org.id) == 5

    first, second = await asyncio.gather(purge(), purge())
    assert first + second == 1
    assert [o async for o in storage.list("orgs/")] == []
