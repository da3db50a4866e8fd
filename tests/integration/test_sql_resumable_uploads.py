"""Resumable uploads on the real unit of work (SQLite and PostgreSQL) and both stores (local files, S3).

What a PATCH acknowledges survives a broken body; two requests at one offset never both append;
a crash between publishing the file and recording the completion leaves one video, made by the retry.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from tests.integration.races import Gap
from tests.integration.sql_fixtures import NOW, Database, make_org, make_user
from tests.media import make_mp4
from tests.s3 import S3Service
from tests.unit.fakes import FakeClock, FakeJobQueue
from vidplat.adapters.sql import SqlUnitOfWork
from vidplat.adapters.sql.resumable_uploads import SqlResumableUploadRepository
from vidplat.adapters.storage.local import LocalStorage
from vidplat.adapters.storage.local_resumable import LocalResumableStorage
from vidplat.adapters.storage.s3 import S3Storage
from vidplat.adapters.storage.s3_resumable import MIN_PART, PART_SIZE
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.errors import OffsetMismatch, UploadNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import PageRequest
from vidplat.domain.ports import ResumableUploadRepository, Storage, UnitOfWork, UnitOfWorkFactory
from vidplat.domain.uploads.model import ResumableUpload
from vidplat.domain.uploads.ports import ResumableStorage
from vidplat.domain.uploads.use_cases import (
    AppendToUpload,
    CreateUpload,
    ExpireUploads,
    GetUpload,
    NewUpload,
    TerminateUpload,
)
from vidplat.domain.videos.keys import upload_key
from vidplat.domain.videos.sweep import SweepStorage
from vidplat.domain.videos.upload import Uploads

MIB = 1024 * 1024


class _SniffGap:
    """The store as the use case sees it; its first read (the completion's sniff) stops at the gap."""

    def __init__(self, storage: Storage, gap: Gap) -> None:
        self._storage, self._gap = storage, gap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    async def read(self, key: str, start: int, length: int) -> AsyncGenerator[bytes, None]:
        await self._gap.stop()
        async for chunk in self._storage.read(key, start, length):
            yield chunk


@dataclass
class Rig:
    db: Database
    storage: LocalStorage | S3Storage
    writes: ResumableStorage
    jobs: FakeJobQueue
    clock: FakeClock
    principal: Principal
    s3: S3Service | None = None
    s3_prefix: str = ""

    @property
    def create(self) -> CreateUpload:
        return CreateUpload(self.db.uow, self.writes, self.clock, 10**10, timedelta(hours=24))

    @property
    def get(self) -> GetUpload:
        return GetUpload(self.db.uow, self.clock)

    def append(self, uow: UnitOfWorkFactory | None = None, storage: Any = None) -> AppendToUpload:
        uow = uow or self.db.uow
        uploads = Uploads(self.storage, self.jobs, 10**10)
        return AppendToUpload(
            uow, storage or self.storage, self.writes, self.clock, GetUpload(uow, self.clock), uploads
        )

    async def patch(self, upload_id: UUID, offset: int, *chunks: bytes) -> ResumableUpload:
        return await self.append()(self.principal, upload_id, offset, _body(*chunks))

    async def keys(self, prefix: str = "orgs/") -> list[str]:
        return sorted([stored.key async for stored in self.storage.list(prefix)])

    async def content(self, key: str) -> bytes:
        size = (await self.storage.head(key)).size
        return b"".join([chunk async for chunk in self.storage.read(key, 0, size)])

    def unfinished(self) -> list[str]:
        """The writes the store still holds bytes of: temporary files, or running multipart uploads."""
        if isinstance(self.storage, LocalStorage):
            return sorted(path.name for path in (self.storage.temporary_dir / "tus").iterdir())
        assert self.s3 is not None
        return self.s3.multipart_uploads(self.s3_prefix)

    async def videos(self) -> list[tuple[Any, ...]]:
        """Every video of the organization: id, pending file and size."""
        async with self.db.uow(read_only=True) as uow:
            page = await uow.videos.list(
                self.principal.organization_id, PageRequest(limit=100, offset=0), statuses=None, title_query=None
            )
        return [(video.id, video.pending_key, video.size_bytes) for video in page.items]


@pytest.fixture(params=["file", "s3"])
async def rig(request: pytest.FixtureRequest, db: Database, tmp_path: Path) -> Rig:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin)
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN)
    if request.param == "file":
        storage = LocalStorage(tmp_path / "media")
        writes = LocalResumableStorage(storage, lock_wait_seconds=0.2)
        return Rig(db, storage, writes, FakeJobQueue(), FakeClock(NOW), principal)
    s3: S3Service = request.getfixturevalue("s3_service")
    prefix = f"test-{uuid4().hex[:12]}"
    s3_storage, s3_writes = s3.stores(tmp_path / "scratch", prefix)
    return Rig(db, s3_storage, s3_writes, FakeJobQueue(), FakeClock(NOW), principal, s3, prefix)


@pytest.fixture
def video(tmp_path: Path) -> bytes:
    """A real MP4 past two S3 parts (so parts, a tail and the last part all happen), padded by a `free` box."""
    mp4 = make_mp4(tmp_path / "clip.mp4").read_bytes()
    padding = 2 * PART_SIZE + 3 * MIB - len(mp4)
    return mp4 + padding.to_bytes(4, "big") + b"free" + os.urandom(padding - 8)


async def test_bodies_that_break_off_keep_what_arrived_and_resume_to_the_same_file(rig: Rig, video: bytes) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=len(video), title="Cut"))
    first, second = PART_SIZE + MIB, PART_SIZE + MIB + 6 * MIB  # a part and a tail; then a part with the tail
    with pytest.raises(ConnectionResetError):
        await rig.append()(rig.principal, upload.id, 0, _broken(video[:first]))
    assert (await rig.get(rig.principal, upload.id)).offset == first
    with pytest.raises(ConnectionResetError):
        await rig.append()(rig.principal, upload.id, first, _broken(video[first:second]))
    assert (await rig.get(rig.principal, upload.id)).offset == second

    done = await rig.patch(upload.id, second, video[second:])

    assert (done.offset, done.video_id) == (len(video), upload.id)
    assert await rig.videos() == [(upload.id, upload.key, len(video))]
    assert rig.jobs.enqueued == [(upload.id, upload.key)]
    assert await rig.content(upload.key) == video
    assert await rig.keys() == [upload.key]  # no tail or segment left behind


async def test_two_patches_at_one_offset_cannot_both_append(rig: Rig, video: bytes) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=len(video), title="Race"))
    head = 100  # past what the completion sniffs, so the racers' bytes can differ
    await rig.patch(upload.id, 0, video[:head])
    gap = Gap()

    async def held(data: bytes) -> AsyncIterator[bytes]:
        yield data[:10]
        await gap.stop()
        yield data[10:]

    slow = asyncio.create_task(rig.append()(rig.principal, upload.id, head, held(b"a" * 20)))
    await gap.wait_reached(slow)
    # Local files: the first holds the file's lock, so the second gives up. S3: the second
    # appends and records first, and the first's record then finds the offset moved.
    fast = (await asyncio.gather(rig.patch(upload.id, head, b"b" * 30), return_exceptions=True))[0]
    gap.resume.set()
    outcomes = [(await asyncio.gather(slow, return_exceptions=True))[0], fast]
    assert sum(isinstance(o, OffsetMismatch) for o in outcomes) == 1, outcomes
    winner = next(o for o in outcomes if isinstance(o, ResumableUpload))
    assert (await rig.get(rig.principal, upload.id)).offset == winner.offset

    # Whichever won, its bytes and only its bytes are what the file goes on from.
    kept = b"a" * 20 if winner.offset == head + 20 else b"b" * 30
    rest = video[head + len(kept) :]
    assert (await rig.patch(upload.id, head + len(kept), rest)).video_id == upload.id
    assert await rig.content(upload.key) == video[:head] + kept + rest
    assert await rig.keys() == [upload.key]


class _CrashingUploads(SqlResumableUploadRepository):
    crashes: list[str]

    async def complete(self, upload: ResumableUpload, video_id: UUID, now: Any) -> bool:
        if self.crashes:
            raise RuntimeError(self.crashes.pop())
        return await super().complete(upload, video_id, now)


class _CrashingUnitOfWork(SqlUnitOfWork):
    crashes: list[str]

    @cached_property
    def resumable_uploads(self) -> ResumableUploadRepository:
        uploads = _CrashingUploads(self._open())
        uploads.crashes = self.crashes
        return uploads


def _crashing_once(db: Database) -> UnitOfWorkFactory:
    """Units of work whose first completion fails, as a process killed between publishing and recording."""
    crashes = ["killed after publishing"]

    def make(*, read_only: bool = False) -> UnitOfWork:
        uow = _CrashingUnitOfWork(db.sessions, db.publish, read_only=read_only)
        uow.crashes = crashes
        return uow

    return make


async def test_a_crash_after_publishing_is_completed_once_by_the_retry(rig: Rig, video: bytes) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=len(video), title="Crash"))
    await rig.patch(upload.id, 0, video[:MIN_PART])
    crashing = rig.append(_crashing_once(rig.db))
    with pytest.raises(RuntimeError):
        await crashing(rig.principal, upload.id, MIN_PART, _body(video[MIN_PART:]))
    # HEAD tells the truth: the last bytes were never acknowledged, and no video exists.
    after = await rig.get(rig.principal, upload.id)
    assert MIN_PART <= after.offset < len(video)
    assert after.video_id is None
    assert await rig.videos() == []
    # Long past the staging TTL, the sweep still leaves alone the file the upload's row names.
    stray = upload_key(rig.principal.organization_id, new_id(), new_id())
    await rig.storage.put_bytes(stray, b"no row names this")
    later = FakeClock(NOW + timedelta(days=3650))
    assert await SweepStorage(rig.db.uow, rig.storage, later, timedelta(hours=1))() >= 1
    assert not await rig.storage.exists(stray)
    assert await rig.storage.exists(upload.key)

    done = await crashing(rig.principal, upload.id, after.offset, _body(video[after.offset :]))

    assert done.video_id == upload.id
    assert await rig.videos() == [(upload.id, upload.key, len(video))]
    assert rig.jobs.enqueued == [(upload.id, upload.key)]
    assert await rig.content(upload.key) == video


async def test_two_requests_completing_at_once_make_one_video(rig: Rig, video: bytes) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=len(video), title="Twice"))
    await rig.patch(upload.id, 0, video[:MIN_PART])
    gap, rest = Gap(), video[MIN_PART:]
    # The first publishes the file, then stops before recording; the second (a client's retry)
    # finds it published and completes; then the first goes on.
    first = asyncio.create_task(
        rig.append(storage=_SniffGap(rig.storage, gap))(rig.principal, upload.id, MIN_PART, _body(rest))
    )
    await gap.wait_reached(first)
    offset = (await rig.get(rig.principal, upload.id)).offset
    second = await rig.patch(upload.id, offset, video[offset:])
    gap.resume.set()
    first_done = await first

    assert first_done.video_id == second.video_id == upload.id
    assert await rig.videos() == [(upload.id, upload.key, len(video))]
    assert rig.jobs.enqueued == [(upload.id, upload.key)]
    assert await rig.content(upload.key) == video


async def test_termination_and_expiry_remove_every_byte_and_spare_live_uploads(rig: Rig) -> None:
    old = await rig.create(rig.principal, NewUpload(length=100 * MIB, title="Old"))
    await rig.patch(old.id, 0, os.urandom(PART_SIZE + MIB))  # a part and a tail
    rig.clock.advance(hours=23)
    live = await rig.create(rig.principal, NewUpload(length=100 * MIB, title="Live"))
    await rig.patch(live.id, 0, b"live")
    ended = await rig.create(rig.principal, NewUpload(length=100 * MIB, title="Ended"))
    await rig.patch(ended.id, 0, b"ended")
    await TerminateUpload(rig.db.uow, rig.storage, rig.writes, rig.clock)(rig.principal, ended.id)
    rig.clock.advance(hours=1, seconds=1)
    with pytest.raises(UploadNotFound):
        await rig.patch(old.id, PART_SIZE + MIB, b"more")

    assert await ExpireUploads(rig.db.uow, rig.storage, rig.writes, rig.clock)() == 1

    live_state = (await rig.get(rig.principal, live.id)).write_state
    assert await rig.keys() == [key for key in [live_state.get("tail")] if key]
    assert rig.unfinished() == [live_state.get("upload_id") or live_state.get("file")]


async def test_a_local_write_drops_what_a_crashed_writer_stored_past_the_offset(db: Database, tmp_path: Path) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin)
    storage = LocalStorage(tmp_path / "media")
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN)
    rig = Rig(db, storage, LocalResumableStorage(storage), FakeJobQueue(), FakeClock(NOW), principal)
    data = make_mp4(tmp_path / "clip.mp4").read_bytes()
    upload = await rig.create(rig.principal, NewUpload(length=len(data), title="Leftovers"))
    await rig.patch(upload.id, 0, data[:100])
    temporary = storage.temporary_dir / "tus" / upload.write_state["file"]
    with temporary.open("ab") as file:
        file.write(b"never acknowledged")

    await rig.patch(upload.id, 100, data[100:])

    assert await rig.content(upload.key) == data


async def _body(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _broken(data: bytes) -> AsyncIterator[bytes]:
    for at in range(0, len(data), MIB):
        yield data[at : at + MIB]
    raise ConnectionResetError("client went away")
