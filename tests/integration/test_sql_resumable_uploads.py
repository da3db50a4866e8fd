"""Resumable uploads on the real unit of work (SQLite and PostgreSQL) and local files: the offset's rules."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.sql_fixtures import NOW, Database, make_org, make_user
from tests.unit.fakes import FakeClock, FakeJobQueue
from vidplat.adapters.storage.local import LocalStorage
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.errors import OffsetMismatch, UploadNotFound
from vidplat.domain.uploads.use_cases import AppendToUpload, CreateUpload, ExpireUploads, GetUpload, NewUpload
from vidplat.domain.videos.upload import ReplaceVideoFile, Uploads, UploadVideo


@dataclass
class Rig:
    storage: LocalStorage
    clock: FakeClock
    principal: Principal
    create: CreateUpload
    get: GetUpload
    append: AppendToUpload
    expire: ExpireUploads

    async def stored(self) -> list[str]:
        return sorted([stored.key async for stored in self.storage.list("orgs/")])

    async def content(self, key: str, size: int) -> bytes:
        return b"".join([chunk async for chunk in self.storage.read(key, 0, size)])


@pytest.fixture
async def rig(db: Database, tmp_path: Path) -> Rig:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin)
    storage, clock = LocalStorage(tmp_path / "media"), FakeClock(NOW)
    uploads = Uploads(storage, FakeJobQueue(), 10**9)
    get = GetUpload(db.uow, clock)
    append = AppendToUpload(
        db.uow, storage, clock, get, UploadVideo(db.uow, uploads, clock), ReplaceVideoFile(db.uow, uploads, clock)
    )
    return Rig(
        storage=storage,
        clock=clock,
        principal=Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN),
        create=CreateUpload(db.uow, clock, 10**9, timedelta(hours=24)),
        get=get,
        append=append,
        expire=ExpireUploads(db.uow, storage, clock),
    )


async def test_two_patches_at_one_offset_cannot_both_append(rig: Rig) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=100, title="Race"))
    checked, first_done = asyncio.Event(), asyncio.Event()
    pulled = 0

    async def body(data: bytes, after: asyncio.Event | None) -> AsyncIterator[bytes]:
        nonlocal pulled
        # The body is first read after the offset check: once both are here, both saw offset 0.
        pulled += 1
        if pulled == 2:
            checked.set()
        await checked.wait()
        if after is not None:
            await after.wait()
        yield data

    async def first() -> int:
        try:
            return (await rig.append(rig.principal, upload.id, 0, body(b"a" * 10, None))).offset
        finally:
            first_done.set()

    second = rig.append(rig.principal, upload.id, 0, body(b"b" * 10, first_done))
    won, lost = await asyncio.gather(first(), second, return_exceptions=True)
    assert won == 10
    assert isinstance(lost, OffsetMismatch)
    stored = await rig.get(rig.principal, upload.id)
    assert stored.offset == 10
    assert await rig.stored() == stored.parts  # the loser's segment is gone
    assert await rig.content(stored.parts[0], 10) == b"a" * 10


async def test_a_body_that_breaks_off_keeps_what_arrived(rig: Rig) -> None:
    upload = await rig.create(rig.principal, NewUpload(length=100, title="Cut"))

    async def broken() -> AsyncIterator[bytes]:
        yield b"abc"
        yield b"de"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await rig.append(rig.principal, upload.id, 0, broken())
    stored = await rig.get(rig.principal, upload.id)
    assert stored.offset == 5
    assert await rig.content(stored.parts[0], 5) == b"abcde"
    resumed = await rig.append(rig.principal, upload.id, 5, _body(b"fgh"))
    assert resumed.offset == 8


async def test_expiry_removes_the_upload_and_its_bytes_and_spares_live_ones(rig: Rig) -> None:
    old = await rig.create(rig.principal, NewUpload(length=100, title="Old"))
    await rig.append(rig.principal, old.id, 0, _body(b"old"))
    rig.clock.advance(hours=23)
    live = await rig.create(rig.principal, NewUpload(length=100, title="Live"))
    await rig.append(rig.principal, live.id, 0, _body(b"live"))
    rig.clock.advance(hours=1, seconds=1)
    with pytest.raises(UploadNotFound):
        await rig.append(rig.principal, old.id, 3, _body(b"more"))
    assert await rig.expire() == 1
    assert await rig.stored() == (await rig.get(rig.principal, live.id)).parts
    assert await rig.expire() == 0


async def _body(data: bytes) -> AsyncIterator[bytes]:
    yield data
