"""Progress writes and the publish of renditions on the real unit of work (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from tests.integration.conftest import eventually
from tests.integration.races import WITHIN, lock_waiters
from tests.integration.sql_fixtures import Database, make_org, make_user, make_video
from tests.unit.factories import mp4_bytes
from tests.unit.fakes import (
    DEFAULT_MEDIA,
    FakeClock,
    FakeMediaProbe,
    FakeScratchSpace,
    FakeStorage,
    FakeTranscoder,
)
from vidplat.domain.ids import new_id
from vidplat.domain.videos.keys import media_key, upload_key
from vidplat.domain.videos.model import Video, VideoStatus
from vidplat.domain.videos.processing import ProcessUpload
from vidplat.domain.videos.renditions import select_renditions
from vidplat.domain.videos.transcoding import MakeRenditions


async def pending_video(db: Database) -> Video:
    org = make_org()
    admin = make_user(org)
    video = make_video(admin, status=VideoStatus.PROCESSING)
    video.pending_key, video.progress = upload_key(org.id, video.id, new_id()), 0
    await db.seed(org, admin, video)
    return video


async def stored(db: Database, video: Video) -> Video:
    async with db.uow(read_only=True) as uow:
        found = await uow.videos.get_any(video.id)
    assert found is not None
    return found


async def set_progress(db: Database, video: Video, progress: int) -> bool:
    async with db.uow() as uow:
        written = await uow.videos.set_progress(video, progress)
        await uow.commit()
    return written


async def test_progress_is_written_while_its_upload_is_pending_and_touches_nothing_else(db: Database) -> None:
    video = await pending_video(db)
    async with db.uow() as uow:  # an edit the processing job never read
        await uow.videos.update(replace(video, title="Renamed"), "title")
        await uow.commit()

    assert await set_progress(db, video, 35)

    found = await stored(db, video)
    assert (found.progress, found.title, found.pending_key) == (35, "Renamed", video.pending_key)
    assert db.announced[-1]  # the catalog's cached reads of the video are dropped


async def test_progress_of_a_superseded_upload_is_not_written(db: Database) -> None:
    video = await pending_video(db)
    newer = replace(video, pending_key=upload_key(video.organization_id, video.id, new_id()), progress=0)
    async with db.uow() as uow:
        await uow.videos.update(newer, "pending_key", "progress")
        await uow.commit()

    assert not await set_progress(db, video, 60)
    found = await stored(db, video)
    assert (found.progress, found.pending_key) == (0, newer.pending_key)


async def test_a_video_with_no_pending_upload_gets_no_progress(db: Database) -> None:
    video = await pending_video(db)
    done = replace(video, pending_key=None, status=VideoStatus.READY, progress=100)
    async with db.uow() as uow:
        await uow.videos.update(done, "pending_key", "status", "progress")
        await uow.commit()

    assert not await set_progress(db, video, 40)
    assert not await set_progress(db, done, 40)
    assert (await stored(db, video)).progress == 100


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer
async def test_a_progress_write_waiting_on_a_replacement_writes_nothing_once_it_commits(db: Database) -> None:
    """READ COMMITTED re-checks the condition on the row the replacement committed: no lost update."""
    video = await pending_video(db)
    newer = upload_key(video.organization_id, video.id, new_id())
    async with db.uow() as replacing:
        locked = await replacing.videos.get_any(video.id, for_update=True)
        assert locked is not None
        locked.pending_key, locked.progress = newer, 0
        await replacing.videos.update(locked, "pending_key", "progress")
        progress = asyncio.create_task(set_progress(db, video, 80))
        await eventually(
            lambda: _waiting(db), within=WITHIN, what="the progress write waiting for the replacement's row lock"
        )
        await replacing.commit()

    assert not await asyncio.wait_for(progress, WITHIN)
    found = await stored(db, video)
    assert (found.pending_key, found.progress) == (newer, 0)


async def _waiting(db: Database) -> bool | None:
    return True if await lock_waiters(db) else None


async def test_processing_publishes_the_renditions_with_the_row(db: Database) -> None:
    video = await pending_video(db)
    assert video.pending_key is not None
    storage, clock, transcoder = FakeStorage(), FakeClock(), FakeTranscoder()
    await storage.put_bytes(video.pending_key, mp4_bytes())
    reported: list[int | None] = []

    async def watch(percent: int) -> None:
        reported.append((await stored(db, video)).progress)

    transcoder.during = watch
    renditions = MakeRenditions(db.uow, storage, transcoder, FakeScratchSpace(), clock)
    process = ProcessUpload(db.uow, storage, FakeMediaProbe(storage), clock, renditions)

    await process(video.id, video.pending_key)

    found = await stored(db, video)
    expected = select_renditions(DEFAULT_MEDIA.width, DEFAULT_MEDIA.height)
    assert (found.status, found.progress, found.storage_key) == (
        VideoStatus.READY,
        100,
        media_key(video.pending_key),
    )
    assert found.renditions == expected
    # What the row showed before each report: written every 5 points (3 and 41 were not), capped at 99.
    assert reported == [0, 0, 20, 40, 40, 60, 80]
