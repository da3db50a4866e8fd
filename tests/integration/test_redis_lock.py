"""RedisLock against a real Redis server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from vidplat.adapters.redis import RedisLock, redis_ready
from vidplat.domain.ports import LockUnavailable


def unreachable() -> Redis:
    # Nothing listens on port 1; no retries so the refusal surfaces at once.
    return Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))


async def test_fifty_concurrent_holders_never_overlap(client: Redis, prefix: str) -> None:
    lock = RedisLock(client, prefix, ttl_seconds=5)
    inside = 0
    overlaps = 0
    entered = 0

    async def critical() -> None:
        nonlocal inside, overlaps, entered
        async with lock.hold_free(["video-1"]) as held:
            if held.keys:
                inside += 1
                overlaps += inside > 1
                entered += 1
                await asyncio.sleep(0.001)
                inside -= 1

    await asyncio.gather(*(critical() for _ in range(50)))
    assert (overlaps, entered > 0) == (0, True)


async def test_release_does_not_touch_a_lock_now_owned_by_someone_else(
    client: Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    lock = RedisLock(client, prefix, ttl_seconds=0.1)
    async with lock.hold_free(["k", "j"]) as held:
        held.finished.add("k")
        await asyncio.sleep(0.2)  # our leases expire and other processes take the keys
        await client.set(f"{prefix}:lock:k", "someone-else")
        await client.set(f"{prefix}:lock:j", "someone-else")
    assert await client.mget(f"{prefix}:lock:k", f"{prefix}:lock:j") == [b"someone-else"] * 2
    assert "expired before it was released" in caplog.text


async def test_ttl_frees_the_lock_of_a_crashed_holder(client: Redis, prefix: str) -> None:
    await client.set(f"{prefix}:lock:k", "crashed-holder", px=100)  # acquired, never released
    lock = RedisLock(client, prefix)
    async with lock.hold_free(["k"]) as held:
        assert held.keys == set()
    await asyncio.sleep(0.2)
    async with lock.hold_free(["k"]) as held:
        assert held.keys == {"k"}
        assert await client.get(f"{prefix}:lock:k") != b"crashed-holder"


async def test_hold_free_takes_only_the_keys_nobody_holds_in_one_round_trip(client: Redis, prefix: str) -> None:
    lock = RedisLock(client, prefix, ttl_seconds=5)
    await client.set(f"{prefix}:lock:b", "another-process", px=5000)

    async with lock.hold_free(["a", "b", "c"]) as held:
        assert held.keys == {"a", "c"}
        assert not held.done
        assert 0 < await client.pttl(f"{prefix}:lock:a") <= 5000  # a lease
        async with lock.hold_free(["a", "c", "d"]) as second:
            assert second.keys == {"d"}

    assert await client.exists(f"{prefix}:lock:a", f"{prefix}:lock:c", f"{prefix}:lock:d") == 0
    assert await client.get(f"{prefix}:lock:b") == b"another-process"  # not ours: left alone


async def test_finished_keys_are_left_done_for_every_later_caller_until_the_mark_expires(
    client: Redis, prefix: str
) -> None:
    lock = RedisLock(client, prefix, ttl_seconds=5, done_ttl_seconds=60)
    other_process = RedisLock(client, prefix)
    async with lock.hold_free(["a", "b", "c"]) as held:
        held.finished.update({"a", "c"})  # b's work failed: it is released, not marked

    async with other_process.hold_free(["a", "b", "c", "d"]) as later:
        assert later.keys == {"b", "d"}
        assert later.done == {"a", "c"}
    assert 50_000 < await client.pttl(f"{prefix}:lock:a") <= 60_000
    async with RedisLock(client, prefix, done_ttl_seconds=0.1).hold_free(["e"]) as held:
        held.finished.add("e")
    await asyncio.sleep(0.2)
    async with lock.hold_free(["e"]) as expired:
        assert expired.keys == {"e"}
        assert not expired.done


async def test_unreachable_server_raises_lock_unavailable() -> None:
    client = unreachable()
    try:
        with pytest.raises(LockUnavailable, match="ConnectionError"):
            async with RedisLock(client, "vidplat_test_unreachable").hold_free(["a", "b"]):
                pass
    finally:
        await client.aclose()


async def test_client_reconnect_retries_do_not_outlast_the_command_timeout() -> None:
    client = Redis(host="127.0.0.1", port=1)  # default policy: several retries with backoff
    try:
        with pytest.raises(LockUnavailable):  # refused, or cut off by the timeout while retrying
            async with RedisLock(client, "vidplat_test_unreachable", command_timeout_seconds=0.2).hold_free(["k"]):
                pass
    finally:
        await client.aclose()


async def test_redis_ready_tells_a_live_server_from_a_dead_one(client: Redis) -> None:
    dead = unreachable()
    try:
        assert await redis_ready(client)
        assert not await redis_ready(dead)
    finally:
        await dead.aclose()
