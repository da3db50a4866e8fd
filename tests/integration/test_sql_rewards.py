"""The view-points ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta
from uuid import UUID

import pytest

from tests.integration.sql_fixtures import NOW, Database, make_credit, make_org, make_user, make_video
from vidplat.adapters.sql.uow import SqlUnitOfWork
from vidplat.domain.accounts.model import User
from vidplat.domain.pagination import PageRequest
from vidplat.domain.videos.model import Video


async def test_a_view_is_credited_once_per_user_and_video(db: Database) -> None:
    org = make_org()
    user, other = make_user(org), make_user(org)
    video, second = make_video(user), make_video(user)
    await db.seed(org, user, other, video, second)
    first = make_credit(user, video.id)
    async with db.uow() as uow:
        assert await uow.credits.add_new([first]) == [first]
        assert await uow.credits.add_new([make_credit(user, video.id)]) == []
        await uow.commit()

    # One batch: a pair already in the ledger is left out, the new ones go in, in the given order.
    batch = [make_credit(other, second.id), make_credit(user, video.id), make_credit(user, second.id)]
    async with db.uow() as uow:
        assert await uow.credits.add_new(batch) == [batch[0], batch[2]]
        await uow.commit()
    async with db.uow() as uow:
        assert len((await uow.credits.list_for_user(user.id, PageRequest())).items) == 2
        assert len((await uow.credits.list_for_user(other.id, PageRequest())).items) == 1


async def test_fifty_concurrent_first_views_credit_exactly_once(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    video = make_video(user)
    await db.seed(org, user, video)

    async def view() -> int:
        async with db.uow() as uow:
            added = await uow.credits.add_new([make_credit(user, video.id)])
            await uow.commit()
            return len(added)

    results = await asyncio.gather(*(view() for _ in range(50)))
    assert sum(results) == 1
    async with db.uow() as uow:
        assert len((await uow.credits.list_for_user(user.id, PageRequest())).items) == 1


async def test_overlapping_batches_in_any_order_credit_each_pair_once_without_deadlock(db: Database) -> None:
    """Concurrent batches sharing pairs, each listing them in its own order: what two processes'
    group commits look like when the lock backend is down and only the unique key decides."""
    org = make_org()
    users = [make_user(org) for _ in range(4)]
    videos = [make_video(users[0]) for _ in range(4)]
    await db.seed(org, *users, *videos)
    pairs = [(u, v) for u in users for v in videos]

    samples = [random.Random(seed).sample(pairs, k=10) for seed in range(12)]

    async def batch(sample: list[tuple[User, Video]]) -> None:
        async with db.uow() as uow:
            added = await uow.credits.add_new([make_credit(u, v.id) for u, v in sample])
            points: Counter[UUID] = Counter()
            for credit in added:
                points[credit.user_id] += credit.points
            await uow.users.add_points(points)
            await uow.commit()

    await asyncio.gather(*(batch(sample) for sample in samples))
    credited = {(u.id, v.id) for sample in samples for u, v in sample}
    async with db.uow() as uow:
        for user in users:
            found = await uow.users.get(org.id, user.id)
            page = await uow.credits.list_for_user(user.id, PageRequest(limit=100))
            mine = {(user.id, v) for u, v in credited if u == user.id}
            assert {(c.user_id, c.video_id) for c in page.items} == mine
            assert found is not None
            assert found.points == 10 * len(mine)


async def test_a_users_credits_are_listed_newest_first_with_a_total(db: Database) -> None:
    org = make_org()
    user, other = make_user(org), make_user(org)
    videos = [make_video(user) for _ in range(3)]
    credits = [
        make_credit(user, v.id, points=i + 1, awarded_at=NOW + timedelta(minutes=i)) for i, v in enumerate(videos)
    ]
    await db.seed(org, user, other, *videos, *credits, make_credit(other, videos[0].id))
    async with db.uow() as uow:
        page = await uow.credits.list_for_user(user.id, PageRequest(limit=2))
    assert page.items == [credits[2], credits[1]]
    assert page.next_cursor is not None


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # row locks: SQLite has one writer
async def test_batches_that_credited_the_same_users_add_their_points_without_deadlock(db: Database) -> None:
    """Each batch's inserts key-share-lock its users (the foreign key); the point updates that
    follow must not wait on those locks, or two such batches wait on each other forever."""
    org = make_org()
    first, second = make_user(org), make_user(org)
    videos = [make_video(first), make_video(first)]
    await db.seed(org, first, second, *videos)

    async with db.uow() as a, db.uow() as b:
        await a.credits.add_new([make_credit(first, videos[0].id), make_credit(second, videos[0].id)])
        await b.credits.add_new([make_credit(second, videos[1].id), make_credit(first, videos[1].id)])

        async def add_points(uow: SqlUnitOfWork, points: dict[UUID, int]) -> None:
            await uow.users.add_points(points)
            await uow.commit()

        async with asyncio.timeout(10):  # PostgreSQL reports a deadlock after 1 s; this only bounds a hang
            await asyncio.gather(
                add_points(a, {first.id: 10, second.id: 10}), add_points(b, {second.id: 10, first.id: 10})
            )

    async with db.uow() as uow:
        totals = [await uow.users.get(org.id, user.id) for user in (first, second)]
    assert [user.points for user in totals if user is not None] == [20, 20]
