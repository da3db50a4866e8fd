"""The unit of work, error translation and engine behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from tests.integration.sql_fixtures import (
    NOW,
    Database,
    ignore_changes,
    make_credit,
    make_org,
    make_session,
    make_user,
    make_video,
    sqlite_url,
)
from vidplat.adapters.sql import SqlUnitOfWork, database_ready, make_engine, make_session_factory
from vidplat.domain import topics
from vidplat.domain.accounts.model import Role
from vidplat.domain.errors import OrganizationNameTaken, Unavailable

UNREACHABLE_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:1/vidplat"


async def test_leaving_without_commit_rolls_back(db: Database) -> None:
    org = make_org()
    async with db.uow() as uow:
        await uow.organizations.add(org)
    async with db.uow() as uow:
        assert await uow.organizations.get(org.id) is None


async def test_an_error_in_the_block_rolls_back(db: Database) -> None:
    org = make_org()

    async def fail_midway() -> None:
        async with db.uow() as uow:
            await uow.organizations.add(org)
            raise RuntimeError("the use case failed")

    with pytest.raises(RuntimeError):
        await fail_midway()
    async with db.uow() as uow:
        assert await uow.organizations.get(org.id) is None


async def test_committed_work_is_visible_to_the_next_unit_of_work(db: Database) -> None:
    org = make_org()
    async with db.uow() as uow:
        await uow.organizations.add(org)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.organizations.get(org.id) == org


async def test_a_commit_announces_what_its_writes_changed_and_nothing_else_does(db: Database) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    login = make_session(admin)
    video = make_video(admin)
    await db.seed(org, admin, login, video)
    db.announced.clear()

    async with db.uow() as uow:  # rolled back: nothing happened, so nothing is announced
        await uow.videos.update(video, "title")
    async with db.uow(read_only=True) as uow:
        await uow.videos.get(org.id, video.id)
    assert db.announced == []

    async with db.uow() as uow:
        await uow.videos.update(video, "title")
        await uow.sessions.revoke(login.id, NOW)
        await uow.users.update(admin, "role")
        await uow.commit()
    async with db.uow() as uow:
        # Neither credits (never taken back) nor points are in any cached value.
        assert await uow.credits.add_new([make_credit(admin, video.id)])
        await uow.users.add_points({admin.id: 10})
        await uow.commit()

    assert db.announced == [
        {
            topics.videos(org.id),
            topics.session(login.id),
            topics.user(admin.id),
        }
    ]


async def test_concurrent_signups_with_the_same_name_let_exactly_one_win(db: Database) -> None:
    async def sign_up(name: str) -> None:
        async with db.uow() as uow:
            await uow.organizations.add(make_org(name))
            await asyncio.sleep(0.01)
            await uow.commit()

    results = await asyncio.gather(sign_up("Acme"), sign_up("ACME"), return_exceptions=True)
    # Same name, same slug: whichever index the database checks first refuses the loser.
    assert results.count(None) == 1
    assert sum(isinstance(r, OrganizationNameTaken) for r in results) == 1


async def test_locking_an_organization_serialises_its_writers(db: Database) -> None:
    org = make_org()
    await db.seed(org)
    events: list[str] = []

    async def writer(name: str) -> None:
        async with db.uow() as uow:
            await uow.organizations.lock(org.id)
            events.append(f"{name} locked")
            await asyncio.sleep(0.05)
            events.append(f"{name} done")
            await uow.commit()

    await asyncio.gather(writer("a"), writer("b"))
    assert events in (
        ["a locked", "a done", "b locked", "b done"],
        ["b locked", "b done", "a locked", "a done"],
    )


async def test_foreign_keys_are_enforced(db: Database) -> None:
    async with db.uow() as uow:
        with pytest.raises(IntegrityError):
            await uow.users.add(make_user(make_org()))


async def test_a_reachable_database_is_ready(db: Database) -> None:
    assert await database_ready(db.engine)


async def test_an_unreachable_postgres_is_unavailable() -> None:
    engine = make_engine(UNREACHABLE_POSTGRES)
    try:
        assert not await database_ready(engine)
        with pytest.raises(Unavailable):
            async with SqlUnitOfWork(make_session_factory(engine), ignore_changes):
                pass
    finally:
        await engine.dispose()


async def test_an_unopenable_sqlite_file_is_unavailable(tmp_path: Path) -> None:
    threads_before = set(threading.enumerate())
    engine = make_engine(sqlite_url(tmp_path / "missing-dir" / "vidplat.db"))
    try:
        assert not await database_ready(engine)
        with pytest.raises(Unavailable):
            async with SqlUnitOfWork(make_session_factory(engine), ignore_changes):
                pass
    finally:
        await engine.dispose()
        await _new_threads_finished(threads_before)


async def _new_threads_finished(before: set[threading.Thread]) -> None:
    """aiosqlite stops the worker of a failed connect without awaiting it (omnilib/aiosqlite#241):
    let it hand back its last result while this test's event loop still runs."""
    for thread in set(threading.enumerate()) - before:
        if "_connection_worker_thread" in thread.name:
            await asyncio.to_thread(thread.join, 5)


async def test_an_exhausted_postgres_pool_is_unavailable(postgres_database: str) -> None:
    engine = make_engine(postgres_database, pool_size=1, max_overflow=0, pool_timeout=0.1)
    sessions = make_session_factory(engine)
    try:
        async with SqlUnitOfWork(sessions, ignore_changes):
            with pytest.raises(Unavailable):
                async with SqlUnitOfWork(sessions, ignore_changes):
                    pass
    finally:
        await engine.dispose()


async def test_a_read_only_unit_of_work_reads_committed_rows_and_refuses_to_commit(db: Database) -> None:
    org = make_org()
    await db.seed(org)
    async with SqlUnitOfWork(db.sessions, db.publish, read_only=True) as uow:
        assert await uow.organizations.get(org.id) == org
        with pytest.raises(RuntimeError, match="read-only"):
            await uow.commit()


async def test_writes_still_take_a_transaction_after_read_only_work_on_the_same_connections(db: Database) -> None:
    org = make_org()
    for _ in range(3):  # the pool hands the same connection back and forth
        async with SqlUnitOfWork(db.sessions, db.publish, read_only=True) as uow:
            await uow.organizations.get(org.id)
    async with db.uow() as uow:
        await uow.organizations.add(org)
        # not committed: must roll back, which only a real transaction can do
    async with SqlUnitOfWork(db.sessions, db.publish, read_only=True) as uow:
        assert await uow.organizations.get(org.id) is None


async def test_a_read_only_unit_of_work_does_not_wait_for_an_open_writer(db: Database) -> None:
    org = make_org()
    await db.seed(org)
    async with db.uow() as writer:
        await writer.organizations.add(make_org("Writer Co"))
        async with asyncio.timeout(5), SqlUnitOfWork(db.sessions, db.publish, read_only=True) as reader:
            assert await reader.organizations.get(org.id) == org
