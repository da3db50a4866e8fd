"""The view-points ledger on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.integration.sql_fixtures import NOW, Database, make_credit, make_org, make_user, make_video
from vidplat.domain.pagination import PageRequest


async def test_a_view_is_credited_once_per_user_and_video(db: Database) -> None:
    org = make_org()
    user, other = make_user(org), make_user(org)
    video = make_video(user)
    await db.seed(org, user, other, video)
    async with db.uow() as uow:
        assert not await uow.credits.exists(user.id, video.id)
        assert await uow.credits.add_once(make_credit(user, video.id))
        assert not await uow.credits.add_once(make_credit(user, video.id))
        assert await uow.credits.add_once(make_credit(other, video.id))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.credits.exists(user.id, video.id)
        assert (await uow.credits.list_for_user(user.id, PageRequest())).total == 1


async def test_fifty_concurrent_first_views_credit_exactly_once(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    video = make_video(user)
    await db.seed(org, user, video)

    async def view() -> bool:
        async with db.uow() as uow:
            credited = await uow.credits.add_once(make_credit(user, video.id))
            await uow.commit()
            return credited

    results = await asyncio.gather(*(view() for _ in range(50)))
    assert results.count(True) == 1
    async with db.uow() as uow:
        assert (await uow.credits.list_for_user(user.id, PageRequest())).total == 1


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
    assert page.total == 3
