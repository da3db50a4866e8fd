"""RedisAttemptLimiter against a real Redis server."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from vidplat.adapters.redis import RedisAttemptLimiter


@pytest.fixture
def limiter(client: Redis, prefix: str) -> RedisAttemptLimiter:
    return RedisAttemptLimiter(client, prefix, limit=3, window_seconds=60)


async def test_key_is_not_blocked_below_the_limit(limiter: RedisAttemptLimiter) -> None:
    for _ in range(2):
        await limiter.record_failure("k")
    assert await limiter.retry_after("k") == 0


async def test_key_is_blocked_at_the_limit_for_the_rest_of_the_window(limiter: RedisAttemptLimiter) -> None:
    for _ in range(3):
        await limiter.record_failure("k")
    assert 0 < await limiter.retry_after("k") <= 60


async def test_more_failures_do_not_extend_the_window(client: Redis, prefix: str, limiter: RedisAttemptLimiter) -> None:
    await limiter.record_failure("k")
    await client.expire(f"{prefix}:attempts:k", 5)  # as if the first failure was 55 s ago
    for _ in range(5):
        await limiter.record_failure("k")
    assert 0 < await limiter.retry_after("k") <= 5


async def test_reset_unblocks_the_key(limiter: RedisAttemptLimiter) -> None:
    for _ in range(3):
        await limiter.record_failure("k")
    await limiter.reset("k")
    assert await limiter.retry_after("k") == 0


async def test_keys_are_counted_separately(limiter: RedisAttemptLimiter) -> None:
    for _ in range(3):
        await limiter.record_failure("alice")
    assert await limiter.retry_after("bob") == 0


async def test_unreachable_server_fails_open() -> None:
    client = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    limiter = RedisAttemptLimiter(client, "vidplat_test_unreachable", limit=1)
    try:
        await limiter.record_failure("k")
        await limiter.record_failure("k")
        assert await limiter.retry_after("k") == 0
        await limiter.reset("k")
    finally:
        await client.aclose()


async def test_slow_reconnects_are_cut_short() -> None:
    # The default client retries with backoff for seconds; the limiter must not make login wait that long.
    client = Redis(host="127.0.0.1", port=1)
    limiter = RedisAttemptLimiter(client, "vidplat_test_unreachable", timeout_seconds=0.2)
    try:
        assert await limiter.retry_after("k") == 0
    finally:
        await client.aclose()
