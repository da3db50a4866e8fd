"""Plan quotas on the real unit of work: concurrent writers at the edge never overshoot.

The uploads and user creations below are released together by a barrier once each has done
its slow step (stored its bytes, hashed its password), so every one of them passes the early,
unlocked check and races for the last room in the writing transaction: only the organization
lock taken there keeps the total within the plan.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import text

from tests.integration.sql_fixtures import NOW, Database, make_org, make_subscription, make_user, make_video
from tests.plans import PAID
from tests.unit.factories import mp4_bytes
from tests.unit.fakes import FakeClock, FakeHasher, FakeJobQueue
from vidplat.adapters.storage.local import LocalStorage
from vidplat.domain.accounts.model import Principal, Role, User
from vidplat.domain.accounts.users import CreateUser, CreateUserCommand
from vidplat.domain.billing import quota
from vidplat.domain.billing.model import Usage
from vidplat.domain.errors import QuotaExceeded
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile, UploadCommand, Uploads, UploadVideo

FILE = 4096
WRITERS = 20
FITTING = 7


async def limit_trial(db: Database, *, storage: int | None = None, users: int | None = None) -> None:
    """Give the seeded TRIAL plan of this test's database small limits."""
    async with db.engine.begin() as connection:
        await connection.execute(
            text("UPDATE plans SET max_storage_bytes = :storage, max_users = :users WHERE code = 'TRIAL'"),
            {"storage": storage, "users": users},
        )


async def _admin(db: Database) -> tuple[Principal, User]:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin, make_subscription(org))
    return Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN, session_id=admin.id), admin


async def _released_together(data: bytes, barrier: asyncio.Barrier) -> AsyncIterator[bytes]:
    """The file's bytes, whose end waits until every writer has sent all of theirs."""
    yield data
    await barrier.wait()


async def _usage(db: Database, organization_id: UUID) -> Usage:
    async with db.uow(read_only=True) as uow:
        return await quota.usage(uow, organization_id)


async def test_concurrent_uploads_at_the_edge_never_overshoot_the_storage_quota(db: Database, tmp_path: Path) -> None:
    await limit_trial(db, storage=FITTING * FILE + FILE // 2)
    principal, _ = await _admin(db)
    storage = LocalStorage(tmp_path / "media")
    upload = UploadVideo(db.uow, Uploads(storage, FakeJobQueue(), 10 * FILE), FakeClock(NOW))
    barrier = asyncio.Barrier(WRITERS)

    def one(n: int) -> UploadCommand:
        return UploadCommand(title=f"clip {n}", description=None, chunks=_released_together(mp4_bytes(FILE), barrier))

    results = await asyncio.gather(*(upload(principal, one(n)) for n in range(WRITERS)), return_exceptions=True)

    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, QuotaExceeded) for r in refused), refused
    assert len(results) - len(refused) == FITTING
    assert (await _usage(db, principal.organization_id)).storage_bytes == FITTING * FILE
    stored = [o async for o in storage.list("orgs/")]
    assert len(stored) == FITTING  # a refused upload's bytes are removed


async def test_concurrent_user_creations_at_the_edge_never_overshoot_the_user_quota(db: Database) -> None:
    await limit_trial(db, users=1 + FITTING)
    principal, _ = await _admin(db)
    barrier = asyncio.Barrier(WRITERS)

    class TogetherHasher(FakeHasher):
        async def hash(self, password: str) -> str:
            hashed = await super().hash(password)
            await barrier.wait()
            return hashed

    create = CreateUser(db.uow, TogetherHasher(), FakeClock(NOW))
    cmds = [CreateUserCommand(email=f"user{n}@example.com") for n in range(WRITERS)]

    results = await asyncio.gather(*(create(principal, cmd) for cmd in cmds), return_exceptions=True)

    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, QuotaExceeded) for r in refused), refused
    assert len(refused) == WRITERS - FITTING
    assert (await _usage(db, principal.organization_id)).users == 1 + FITTING


async def test_usage_counts_trash_and_a_pending_replacement_but_not_a_failed_first_upload(db: Database) -> None:
    principal, admin = await _admin(db)
    served = make_video(admin)
    served.storage_key, served.size_bytes = "orgs/x/videos/a", 1000
    trashed = make_video(admin, deleted_at=NOW)
    trashed.storage_key, trashed.size_bytes = "orgs/x/videos/b", 200
    replacing = make_video(admin)
    replacing.storage_key, replacing.size_bytes = "orgs/x/videos/c", 30
    replacing.pending_key, replacing.pending_bytes = "orgs/x/uploads/c", 4
    failed = make_video(admin)
    failed.size_bytes = 50_000  # the first upload's size, its bytes long dropped
    await db.seed(served, trashed, replacing, failed)

    assert await _usage(db, principal.organization_id) == Usage(storage_bytes=1234, users=1)


async def test_a_replacement_counts_once_and_is_refused_past_the_quota(db: Database, tmp_path: Path) -> None:
    await limit_trial(db, storage=3 * FILE)
    principal, admin = await _admin(db)
    video = make_video(admin)
    video.storage_key, video.size_bytes = "orgs/x/videos/a", FILE
    await db.seed(video)
    storage = LocalStorage(tmp_path / "media")
    replace = ReplaceVideoFile(db.uow, Uploads(storage, FakeJobQueue(), 10 * FILE), FakeClock(NOW))

    async def again(size: int) -> None:
        chunks = _released_together(mp4_bytes(size), asyncio.Barrier(1))
        await replace(principal, video.id, ReplaceCommand(title=None, description=None, chunks=chunks))

    await again(FILE)
    await again(2 * FILE)  # supersedes the first pending upload, which stops counting
    assert (await _usage(db, principal.organization_id)).storage_bytes == 3 * FILE
    with pytest.raises(QuotaExceeded):
        await again(2 * FILE + 1)
    assert (await _usage(db, principal.organization_id)).storage_bytes == 3 * FILE


async def test_a_lapsed_paid_plan_keeps_the_content_and_refuses_new_uploads(db: Database, tmp_path: Path) -> None:
    await limit_trial(db, storage=FILE)
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    video = make_video(admin)
    video.storage_key, video.size_bytes = "orgs/x/videos/a", 5 * FILE  # fitted the paid plan
    await db.seed(org, admin, make_subscription(org, PAID), video)
    principal = Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN, session_id=admin.id)
    storage = LocalStorage(tmp_path / "media")
    after_paid = NOW + timedelta(days=2 * (PAID.duration_days or 0))
    upload = UploadVideo(db.uow, Uploads(storage, FakeJobQueue(), 10 * FILE), FakeClock(after_paid))

    with pytest.raises(QuotaExceeded):
        await upload(principal, UploadCommand(title="more", description=None, chunks=_one(mp4_bytes(FILE))))

    assert [o async for o in storage.list("")] == []  # refused before a byte was stored
    async with db.uow(read_only=True) as uow:
        assert await uow.videos.get(org.id, video.id) == video
    assert (await _usage(db, org.id)).storage_bytes == 5 * FILE


async def _one(data: bytes) -> AsyncIterator[bytes]:
    yield data
