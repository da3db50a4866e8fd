"""The embedded mode's in-memory login attempt limiter, on a fake clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from vidplat.adapters.local.limiter import MemoryAttemptLimiter


@dataclass
class FakeClock:
    current: datetime = field(default_factory=lambda: datetime(2030, 1, 1, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


def make_limiter(clock: FakeClock, limit: int = 3, window_seconds: int = 60) -> MemoryAttemptLimiter:
    return MemoryAttemptLimiter(clock, limit=limit, window_seconds=window_seconds)


async def test_key_is_not_blocked_below_the_limit() -> None:
    limiter = make_limiter(FakeClock())
    for _ in range(2):
        await limiter.record_failure("k")
    assert await limiter.retry_after("k") == 0


async def test_key_is_blocked_at_the_limit_until_the_window_ends() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    for _ in range(3):
        await limiter.record_failure("k")
        clock.advance(10)
    assert await limiter.retry_after("k") == 30  # the window opened at the first failure, 30 s ago
    clock.advance(29.5)
    assert await limiter.retry_after("k") == 1
    clock.advance(0.5)
    assert await limiter.retry_after("k") == 0


async def test_failures_after_the_window_start_a_new_count() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    for _ in range(2):
        await limiter.record_failure("k")
    clock.advance(60)
    await limiter.record_failure("k")
    await limiter.record_failure("k")
    assert await limiter.retry_after("k") == 0


async def test_reset_unblocks_the_key() -> None:
    limiter = make_limiter(FakeClock())
    for _ in range(3):
        await limiter.record_failure("k")
    await limiter.reset("k")
    assert await limiter.retry_after("k") == 0


async def test_keys_are_counted_separately() -> None:
    limiter = make_limiter(FakeClock())
    for _ in range(3):
        await limiter.record_failure("alice")
    assert await limiter.retry_after("alice") > 0
    assert await limiter.retry_after("bob") == 0


async def test_expired_windows_are_dropped_from_memory() -> None:
    clock = FakeClock()
    limiter = make_limiter(clock)
    for index in range(100):
        await limiter.record_failure(f"k{index}")
    clock.advance(61)
    await limiter.record_failure("fresh")
    assert list(limiter._windows) == ["fresh"]
