"""A view credit is off the stream's path: a blocked credit holds up no response, and a graceful stop commits it.

A committed credit is left done at its lock, so another process's later attempt ends there.

On PostgreSQL with the Redis lock, as production runs it. The credit is blocked the way
contention blocks it: another holder of the view's credit lock (a separate client, as another
process would be).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from uuid import UUID

from redis.asyncio import Redis

from tests.integration.conftest import Platform
from tests.media import make_mp4
from vidplat.adapters.redis.lock import RedisLock
from vidplat.bootstrap import Container
from vidplat.domain.accounts.model import Principal
from vidplat.domain.accounts.users import CreateUserCommand
from vidplat.domain.ports import UnitOfWork
from vidplat.domain.videos.upload import UploadCommand

PASSWORD = "correct horse battery staple"


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _member_and_video(platform: Platform, container: Container) -> tuple[Principal, UUID]:
    uc = container.use_cases
    admin = await platform.sign_up(container, "Offpath Co")
    clip = make_mp4(platform.data_dir / "clip.mp4").read_bytes()
    video = await uc.upload_video(admin, UploadCommand(title="Clip", description=None, chunks=_chunks(clip)))
    assert video.pending_key is not None
    await uc.process_upload(video.id, video.pending_key)  # what the worker would do
    slug = (await uc.get_organization(admin)).organization.slug
    await uc.create_user(admin, CreateUserCommand(email="viewer@example.com", password=PASSWORD))
    return await platform.log_in(container, slug, "viewer@example.com"), video.id


async def _credits(platform: Platform, member: Principal) -> list[tuple[object, ...]]:
    return await platform.rows(
        "SELECT c.points, u.points FROM view_credits c JOIN users u ON u.id = c.user_id WHERE c.user_id = :user",
        user=member.user_id,
    )


async def test_a_blocked_credit_does_not_block_the_stream(platform: Platform) -> None:
    container = await platform.started()
    member, video = await _member_and_video(platform, container)
    other_process = Redis.from_url(platform.redis_url)
    try:
        async with RedisLock(other_process, platform.redis_prefix).hold_free(
            [f"credit:{member.user_id}:{video}"]
        ) as held:
            assert held.keys
            playable = await container.use_cases.open_stream(member, video)

            assert playable.size > 0
            assert container.use_cases.background.pending == 1
            assert await _credits(platform, member) == []
    finally:
        await other_process.aclose()

    await container.use_cases.background.settled()
    assert await _credits(platform, member) == [(10, 10)]


async def test_a_graceful_stop_commits_a_credit_still_pending(platform: Platform) -> None:
    container = platform.container()  # this test stops it itself
    await container.start(run_schedules=False)
    member, video = await _member_and_video(platform, container)
    other_process = Redis.from_url(platform.redis_url)
    try:
        async with RedisLock(other_process, platform.redis_prefix).hold_free(
            [f"credit:{member.user_id}:{video}"]
        ) as held:
            assert held.keys
            await container.use_cases.open_stream(member, video)
            stopping = asyncio.create_task(container.close())
            await asyncio.sleep(0)  # the stop is under way while the credit still waits for the lock
            assert not stopping.done()
        await stopping
    finally:
        await other_process.aclose()

    assert container.use_cases.background.pending == 0
    assert await _credits(platform, member) == [(10, 10)]


def _no_database(*, read_only: bool = False) -> UnitOfWork:
    raise AssertionError("the second process opened a unit of work")


async def test_a_view_one_process_credited_costs_another_process_no_transaction(platform: Platform) -> None:
    first = await platform.started()
    member, video = await _member_and_video(platform, first)
    assert await first.use_cases.credit_view(member.organization_id, member.user_id, video)

    second = await platform.started()  # it has not seen the credit: only the lock can tell it
    credit = replace(second.use_cases.credit_view, uow=_no_database)

    assert await credit(member.organization_id, member.user_id, video) is False
    assert await _credits(platform, member) == [(10, 10)]
