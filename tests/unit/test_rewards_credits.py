"""View points: the first view of a video credits its viewer exactly once."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.factories import VIEW_POINTS, Account, Tenant, World, make_video
from tests.unit.fakes import FakeLock
from vidplat.domain.errors import UserNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import PageRequest
from vidplat.domain.rewards.model import ViewCredit
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


@pytest.fixture
def videos(world: World, acme: Tenant) -> list[Video]:
    videos = [make_video(acme.admin.user, title=f"Video {n}") for n in range(10)]
    world.store.insert(*videos)
    return videos


async def test_concurrent_first_views_commit_together_one_lock_call_and_one_transaction(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit, viewers = world.credit(), [member.user, acme.admin.user]
    units_before = len(world.store.units)

    results = await asyncio.gather(*(credit(acme.org.id, u.id, v.id) for u in viewers for v in videos))

    assert results == [True] * 20
    assert [len(keys) for keys in world.lock.batches] == [20]
    assert len([u for u in world.store.units[units_before:] if not u.read_only]) == 1
    assert len(world.store.credits) == 20
    assert world.store.users[member.user.id].points == 10 * VIEW_POINTS


async def test_views_that_arrive_while_a_batch_commits_go_in_the_next_one_bounded_in_size(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit = CreditView(world.uow, world.lock, world.clock, VIEW_POINTS, max_batch=4)
    first = asyncio.ensure_future(credit(acme.org.id, member.user.id, videos[0].id))
    await asyncio.sleep(0)  # the lone first view starts a batch of its own at once

    later = await asyncio.gather(*(credit(acme.org.id, member.user.id, v.id) for v in videos[1:]))

    assert await first
    assert later == [True] * 9
    assert [len(keys) for keys in world.lock.batches] == [1, 4, 4, 1]
    assert world.store.users[member.user.id].points == 10 * VIEW_POINTS


async def test_a_view_another_process_is_crediting_waits_for_its_lock_and_holds_up_no_other(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit = world.credit()
    contended, free = videos[0], videos[1]

    async with world.lock.hold(f"credit:{member.user.id}:{contended.id}"):  # another process's lock
        waiting = asyncio.ensure_future(credit(acme.org.id, member.user.id, contended.id))
        assert await credit(acme.org.id, member.user.id, free.id)
        assert not waiting.done()
        async with world.uow() as uow:  # what the other process does under its lock
            theirs = ViewCredit(
                id=new_id(),
                organization_id=acme.org.id,
                user_id=member.user.id,
                video_id=contended.id,
                points=VIEW_POINTS,
                awarded_at=world.clock.now(),
            )
            await uow.credits.add_new([theirs])
            await uow.users.add_points({member.user.id: VIEW_POINTS})
            await uow.commit()

    assert await waiting is False  # it took the lock once released, and found the view credited
    assert len(world.store.credits) == 2
    assert world.store.users[member.user.id].points == 2 * VIEW_POINTS


async def test_a_failed_batch_fails_each_of_its_views_and_the_next_batch_starts_afresh(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit = world.credit()
    world.store.break_repository("credits", ConnectionError("database went away"))

    results = await asyncio.gather(*(credit(acme.org.id, member.user.id, v.id) for v in videos), return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)
    assert not world.lock.done  # released, not left done: the next attempt must try again

    world.store.broken.clear()
    assert await credit(acme.org.id, member.user.id, videos[0].id)
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_a_caller_hanging_up_does_not_cancel_its_batch(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit = world.credit()
    gone = asyncio.ensure_future(credit(acme.org.id, member.user.id, videos[0].id))
    await asyncio.sleep(0)
    gone.cancel()

    assert await credit(acme.org.id, member.user.id, videos[1].id)
    assert await credit(acme.org.id, member.user.id, videos[0].id) is False  # credited by the batch it left
    assert world.store.users[member.user.id].points == 2 * VIEW_POINTS


async def test_under_load_batches_start_an_interval_apart_and_take_every_view_that_came_meanwhile(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    credit = CreditView(world.uow, world.lock, world.clock, VIEW_POINTS, interval=0.5)
    assert await credit(acme.org.id, member.user.id, videos[0].id)  # after a quiet spell: at once

    later = []
    for video in videos[1:]:  # one view per turn of the loop, each of which could start a batch
        later.append(asyncio.ensure_future(credit(acme.org.id, member.user.id, video.id)))
        await asyncio.sleep(0)

    assert await asyncio.gather(*later) == [True] * 9
    assert [len(keys) for keys in world.lock.batches] == [1, 9]
    assert world.store.users[member.user.id].points == 10 * VIEW_POINTS


async def test_a_view_whose_lock_stays_held_elsewhere_past_the_wait_is_credited_on_the_constraint(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    credit = CreditView(world.uow, world.lock, world.clock, VIEW_POINTS, interval=0.001)

    async with world.lock.hold(f"credit:{member.user.id}:{video.id}"):  # a holder that crashed, lease alive
        waiting = asyncio.ensure_future(credit(acme.org.id, member.user.id, video.id))
        await asyncio.sleep(0.05)  # batches keep asking for the lock, and do not get it
        assert not waiting.done()
        retries = len(world.lock.batches)
        assert retries > 1

        world.clock.advance(credit.contended_wait)
        assert await waiting  # inserted with the lock still held elsewhere: the unique key fences

    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_a_committed_view_is_left_done_so_another_process_attempt_costs_no_transaction(
    world: World, acme: Tenant, member: Account, videos: list[Video]
) -> None:
    assert await world.credit()(acme.org.id, member.user.id, videos[0].id)
    assert world.lock.done == {f"credit:{member.user.id}:{videos[0].id}"}
    units_before = len(world.store.units)

    other_process = world.credit()  # its own batches, the same lock backend and database
    results = await asyncio.gather(*(other_process(acme.org.id, member.user.id, v.id) for v in videos[:2]))

    assert results == [False, True]
    assert len([u for u in world.store.units[units_before:] if not u.read_only]) == 1  # videos[1]'s only
    assert world.store.users[member.user.id].points == 2 * VIEW_POINTS
