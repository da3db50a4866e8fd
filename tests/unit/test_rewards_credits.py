"""View points: the first view of a video credits its viewer exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.factories import VIEW_POINTS, Account, Tenant, World, make_video
from tests.unit.fakes import FakeLock
from vidplat.domain.errors import UserNotFound
from vidplat.domain.pagination import PageRequest
from vidplat.domain.rewards.use_cases import CreditView, ListMyPoints
from vidplat.domain.videos.model import Video


@pytest.fixture
def video(world: World, acme: Tenant) -> Video:
    video = make_video(acme.admin.user)
    world.store.insert(video)
    return video


async def test_first_view_inserts_a_ledger_row_and_adds_points(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    assert await world.credit()(acme.org.id, member.user.id, video.id)

    [credit] = world.store.credits.values()
    assert (credit.user_id, credit.video_id, credit.organization_id) == (member.user.id, video.id, acme.org.id)
    assert (credit.points, credit.awarded_at) == (VIEW_POINTS, world.clock.now())
    assert world.store.users[member.user.id].points == VIEW_POINTS
    assert world.lock.held == [f"credit:{member.user.id}:{video.id}"]


async def test_second_view_returns_false_and_changes_nothing(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    await world.credit()(acme.org.id, member.user.id, video.id)
    commits = world.store.commits

    assert not await world.credit()(acme.org.id, member.user.id, video.id)

    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS
    assert world.store.commits == commits


async def test_each_video_and_each_user_is_credited_separately(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    other = make_video(acme.admin.user)
    world.store.insert(other)

    await world.credit()(acme.org.id, member.user.id, video.id)
    await world.credit()(acme.org.id, member.user.id, other.id)
    await world.credit()(acme.org.id, acme.admin.user.id, video.id)

    assert len(world.store.credits) == 3
    assert world.store.users[member.user.id].points == 2 * VIEW_POINTS
    assert world.store.users[acme.admin.user.id].points == VIEW_POINTS


async def test_concurrent_first_views_credit_once(world: World, acme: Tenant, member: Account, video: Video) -> None:
    results = await asyncio.gather(*(world.credit()(acme.org.id, member.user.id, video.id) for _ in range(5)))

    assert results.count(True) == 1
    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_without_the_lock_concurrent_views_still_credit_exactly_once(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    credit = CreditView(world.uow, FakeLock(unavailable=True), world.clock, VIEW_POINTS)

    results = await asyncio.gather(*(credit(acme.org.id, member.user.id, video.id) for _ in range(5)))
    again = await credit(acme.org.id, member.user.id, video.id)

    assert results.count(True) == 1
    assert not again
    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_points_statement_shows_the_total_and_the_ledger_newest_first(
    world: World, acme: Tenant, member: Account
) -> None:
    videos = [make_video(acme.admin.user, title=f"Video {n}") for n in range(3)]
    world.store.insert(*videos)
    for video in videos:
        world.clock.advance(minutes=1)
        await world.credit()(acme.org.id, member.user.id, video.id)
    await world.credit()(acme.org.id, acme.admin.user.id, videos[0].id)

    statement = await ListMyPoints(world.uow)(member.principal, PageRequest(limit=2))

    assert statement.total == 3 * VIEW_POINTS
    assert [c.video_id for c in statement.credits.items] == [videos[2].id, videos[1].id]
    assert statement.credits.total == 3
    assert statement.credits.items[0].awarded_at == world.clock.now()


async def test_points_statement_of_a_deleted_user_is_not_found(world: World, member: Account) -> None:
    world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(UserNotFound):
        await ListMyPoints(world.uow)(member.principal, PageRequest())


async def test_concurrent_credits_of_one_view_in_one_process_share_one_attempt(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    credit = world.credit()
    results = await asyncio.gather(*(credit(acme.org.id, member.user.id, video.id) for _ in range(5)))

    assert sorted(results) == [False] * 4 + [True]
    assert world.lock.held == [f"credit:{member.user.id}:{video.id}"]  # one lock taken, not five
    assert world.store.users[member.user.id].points == VIEW_POINTS
