"""RedisAttemptLimiter against a real Redis server."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from tests.unit.fakes import FakeClock
from vidplat.adapters.local.limiter import MemoryAttemptLimiter
from vidplat.adapters.redis import RedisAttemptLimiter
from vidplat.domain.accounts.policy import Quota

QUOTA = Quota("test", limit=3, window_seconds=60)


def in_process() -> MemoryAttemptLimiter:
    return MemoryAttemptLimiter(FakeClock())


@pytest.fixture
def limiter(client: Redis, prefix: str) -> RedisAttemptLimiter:
    return RedisAttemptLimiter(client, prefix, in_process())


async def test_attempts_up_to_the_limit_pass_and_the_next_waits_for_the_window(limiter: RedisAttemptLimiter) -> None:
    waits = [await limiter.hit(QUOTA, "k") for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert 0 < waits[3] <= 60


async def test_forty_concurrent_attempts_let_exactly_the_limit_through(
    client: Redis, limiter: RedisAttemptLimiter
) -> None:
    # Each hit on its own connection of the pool: they really overlap on the server.
    waits = await asyncio.gather(*(limiter.hit(QUOTA, "k") for _ in range(40)))

    assert sum(wait == 0 for wait in waits) == QUOTA.limit
    assert int(await client.get(limiter.key_name(QUOTA, "k")) or 0) == 40


async def test_more_attempts_do_not_extend_the_window(client: Redis, limiter: RedisAttemptLimiter) -> None:
    await limiter.hit(QUOTA, "k")
    await client.expire(limiter.key_name(QUOTA, "k"), 5)  # as if the first attempt was 55 s ago
    for _ in range(5):
        await limiter.hit(QUOTA, "k")
    assert 0 < await limiter.hit(QUOTA, "k") <= 5


async def test_reset_unblocks_the_key(limiter: RedisAttemptLimiter) -> None:
    for _ in range(4):
        await limiter.hit(QUOTA, "k")
    await limiter.reset(QUOTA, "k")
    assert await limiter.hit(QUOTA, "k") == 0


async def test_keys_and_quotas_are_counted_separately(limiter: RedisAttemptLimiter) -> None:
    for _ in range(4):
        await limiter.hit(QUOTA, "alice")
    assert await limiter.hit(QUOTA, "bob") == 0
    assert await limiter.hit(Quota("other", 3, 60), "alice") == 0


async def test_redis_never_sees_the_identifier(client: Redis, prefix: str, limiter: RedisAttemptLimiter) -> None:
    await limiter.hit(QUOTA, "acme:ada@example.com")
    keys = [key.decode() async for key in client.scan_iter(f"{prefix}:attempts:*")]
    assert len(keys) == 1
    assert "ada" not in keys[0]


async def test_an_unreachable_server_falls_back_to_counting_in_process() -> None:
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    limiter = RedisAttemptLimiter(client, "vidplat_test_unreachable", in_process())
    try:
        assert [await limiter.hit(QUOTA, "k") for _ in range(4)] == [0, 0, 0, 60]
        await limiter.reset(QUOTA, "k")
        assert await limiter.hit(QUOTA, "k") == 0
    finally:
        await client.aclose()


async def test_slow_reconnects_are_cut_short() -> None:
    # The default client retries with backoff for seconds; the limiter must not make login wait that long.
    client = Redis(host="127.0.0.1", port=1)
    limiter = RedisAttemptLimiter(client, "vidplat_test_unreachable", in_process(), timeout_seconds=0.2)
    try:
        assert await limiter.hit(QUOTA, "k") == 0
    finally:
        await client.aclose()
