"""AttemptLimiter in memory, for the single-process embedded mode."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from vidplat.domain.accounts.policy import Quota
from vidplat.domain.ports import Clock


@dataclass
class _Window:
    attempts: int
    ends_at: datetime


class MemoryAttemptLimiter:
    """Same rules as the Redis limiter: the window opens at the first attempt and is not extended.

    A hit reads and bumps the count without awaiting in between, which is what makes it atomic
    on the one event loop of the embedded mode.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        # Per quota, insertion order is window order (one window length per quota, and a new window
        # is re-inserted at the end), so expired entries are always at the front and cheap to drop.
        self._windows: dict[str, dict[str, _Window]] = {}

    async def hit(self, quota: Quota, key: str) -> int:
        now = self._clock.now()
        windows = self._windows.setdefault(quota.name, {})
        _drop_expired(windows, now)
        window = windows.get(key)
        if window is None:
            windows[key] = window = _Window(attempts=0, ends_at=now + timedelta(seconds=quota.window_seconds))
        window.attempts += 1
        if window.attempts <= quota.limit:
            return 0
        return max(1, math.ceil((window.ends_at - now).total_seconds()))

    async def reset(self, quota: Quota, key: str) -> None:
        self._windows.get(quota.name, {}).pop(key, None)


def _drop_expired(windows: dict[str, _Window], now: datetime) -> None:
    while windows:
        oldest = next(iter(windows))
        if windows[oldest].ends_at > now:
            return
        del windows[oldest]
