"""The embedded mode's in-memory attempt limiter, on a fake clock."""

from __future__ import annotations

import asyncio

from tests.unit.fakes import FakeClock
from vidplat.adapters.local.limiter import MemoryAttemptLimiter
from vidplat.domain.accounts.policy import Quota

QUOTA = Quota("test", limit=3, window_seconds=60)


async def test_attempts_up_to_the_limit_pass_and_the_next_is_refused() -> None:
    limiter = MemoryAttemptLimiter(FakeClock())

    assert [await limiter.hit(QUOTA, "k") for _ in range(4)] == [0, 0, 0, 60]


async def test_the_window_opens_at_the_first_attempt_and_refusals_do_not_extend_it() -> None:
    clock = FakeClock()
    limiter = MemoryAttemptLimiter(clock)
    for _ in range(3):
        await limiter.hit(QUOTA, "k")
    clock.advance(seconds=30)
    assert await limiter.hit(QUOTA, "k") == 30
    clock.advance(seconds=29.5)
    assert await limiter.hit(QUOTA, "k") == 1
    clock.advance(seconds=0.5)
    assert await limiter.hit(QUOTA, "k") == 0  # a fresh window


async def test_forty_concurrent_attempts_let_exactly_the_limit_through() -> None:
    limiter = MemoryAttemptLimiter(FakeClock())

    waits = await asyncio.gather(*(limiter.hit(QUOTA, "k") for _ in range(40)))

    assert sum(wait == 0 for wait in waits) == QUOTA.limit


async def test_reset_clears_the_key() -> None:
    limiter = MemoryAttemptLimiter(FakeClock())
    for _ in range(4):
        await limiter.hit(QUOTA, "k")
    await limiter.reset(QUOTA, "k")
    assert await limiter.hit(QUOTA, "k") == 0


async def test_keys_and_quotas_are_counted_separately() -> None:
    limiter = MemoryAttemptLimiter(FakeClock())
    for _ in range(4):
        await limiter.hit(QUOTA, "alice")
    assert await limiter.hit(QUOTA, "bob") == 0
    assert await limiter.hit(Quota("other", 3, 60), "alice") == 0


async def test_expired_windows_are_dropped() -> None:
    clock = FakeClock()
    limiter = MemoryAttemptLimiter(clock)
    for index in range(100):
        await limiter.hit(QUOTA, f"k{index}")
    clock.advance(seconds=61)
    await limiter.hit(QUOTA, "fresh")
    assert list(limiter._windows[QUOTA.name]) == ["fresh"]
