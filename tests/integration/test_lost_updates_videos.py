"""No video change is written back over a concurrent one (PostgreSQL, two connections, a barrier).

The processing job and the admin's edits, trash and replacements each stop just before they
write what they read, while the other commits in that gap; see races.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from tests.integration.races import Gap, run_in_gap, stopping_before_write
from tests.integration.sql_fixtures import NOW, Database, make_org, make_user, make_video
from tests.unit.factories import mp4_bytes, stream
from tests.unit.fakes import FakeClock, FakeJobQueue, FakeMediaProbe, FakeScratchSpace, FakeStorage, FakeTranscoder
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.ids import new_id
from vidplat.domain.ports import UnitOfWorkFactory
from vidplat.domain.videos.catalog import DeleteVideo, EditVideo, EditVideoCommand
from vidplat.domain.videos.keys import media_key, upload_key
from vidplat.domain.videos.model import Video, VideoStatus
from vidplat.domain.videos.processing import ProcessUpload
from vidplat.domain.videos.transcoding import MakeRenditions
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile, Uploads

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer


@dataclass
class Scene:
    db: Database
    admin: Principal
    video: Video
    key: str  # the upload being processed
    storage: FakeStorage
    clock: FakeClock

    def process(self, uow: UnitOfWorkFactory) -> ProcessUpload:
        renditions = MakeRenditions(uow, self.storage, FakeTranscoder(), FakeScratchSpace(), self.clock)
        return ProcessUpload(uow, self.storage, FakeMediaProbe(self.storage), self.clock, renditions)

    async def row(self, *columns: str) -> tuple[object, ...]:
        async with self.db.engine.connect() as connection:
            result = await connection.execute(
                text(f"SELECT {', '.join(columns)} FROM videos WHERE id = :id"), {"id": self.video.id}
            )
            return tuple(result.one())


async def _scene(db: Database, *, served: bool = False) -> Scene:
    """An upload waiting for processing: a first one, or with `served` a replacement of a ready file."""
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    video = make_video(admin, status=VideoStatus.READY if served else VideoStatus.PROCESSING)
    key = video.pending_key = upload_key(org.id, video.id, new_id())
    if served:
        video.storage_key = media_key(upload_key(org.id, video.id, new_id()))
    storage = FakeStorage()
    await storage.put_bytes(key, mp4_bytes())
    await db.seed(org, admin, video)
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN)
    return Scene(db, principal, video, key, storage, FakeClock(NOW))


async def test_an_edit_committed_while_processing_publishes_is_kept(db: Database) -> None:
    scene, gap = await _scene(db), Gap()
    publishing = asyncio.create_task(scene.process(stopping_before_write(db, gap))(scene.video.id, scene.key))

    edit = EditVideo(db.uow, scene.clock)(scene.admin, scene.video.id, EditVideoCommand(title="Renamed"))
    await run_in_gap(db, gap, publishing, edit)

    await publishing
    assert await scene.row("title", "status", "storage_key") == ("Renamed", "ready", media_key(scene.key))


async def test_a_video_trashed_while_processing_publishes_stays_trashed(db: Database) -> None:
    scene, gap = await _scene(db), Gap()
    publishing = asyncio.create_task(scene.process(stopping_before_write(db, gap))(scene.video.id, scene.key))

    await run_in_gap(db, gap, publishing, DeleteVideo(db.uow, scene.clock)(scene.admin, scene.video.id))

    await publishing
    assert await scene.row("deleted_at IS NOT NULL", "status") == (True, "ready")


async def test_processing_published_while_an_edit_is_written_stays_published(db: Database) -> None:
    scene, gap = await _scene(db), Gap()
    edit = EditVideo(stopping_before_write(db, gap), scene.clock)
    editing = asyncio.create_task(edit(scene.admin, scene.video.id, EditVideoCommand(title="Renamed")))

    await run_in_gap(db, gap, editing, scene.process(db.uow)(scene.video.id, scene.key))

    await editing
    assert await scene.row("title", "status", "pending_key", "storage_key") == (
        "Renamed",
        "ready",
        None,
        media_key(scene.key),
    )


async def test_a_replacement_uploaded_while_an_earlier_upload_publishes_stays_pending(db: Database) -> None:
    scene, gap = await _scene(db, served=True), Gap()
    publishing = asyncio.create_task(scene.process(stopping_before_write(db, gap))(scene.video.id, scene.key))
    jobs = FakeJobQueue()
    replace = ReplaceVideoFile(db.uow, Uploads(scene.storage, jobs, max_bytes=1 << 20), scene.clock)
    cmd = ReplaceCommand(title=None, description=None, chunks=stream(mp4_bytes()))

    replaced = await run_in_gap(db, gap, publishing, replace(scene.admin, scene.video.id, cmd))

    await publishing
    newer = replaced.pending_key
    assert newer is not None
    assert await scene.row("pending_key", "storage_key", "status") == (newer, media_key(scene.key), "ready")
    assert jobs.enqueued == [(scene.video.id, newer)]
    assert newer in scene.storage.files


async def test_a_video_trashed_while_an_edit_is_written_stays_trashed(db: Database) -> None:
    scene, gap = await _scene(db, served=True), Gap()
    edit = EditVideo(stopping_before_write(db, gap), scene.clock)
    editing = asyncio.create_task(edit(scene.admin, scene.video.id, EditVideoCommand(description="Notes")))

    await run_in_gap(db, gap, editing, DeleteVideo(db.uow, scene.clock)(scene.admin, scene.video.id))

    await editing
    assert await scene.row("description", "deleted_at IS NOT NULL") == ("Notes", True)
