"""AttemptLimiter in memory, for the single-process embedded mode."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from vidplat.domain.ports import Clock


@dataclass
class _Window:
    failures: int
    ends_at: datetime


class MemoryAttemptLimiter:
    """Same rules as the Redis limiter: the window opens at the first failure and is not extended."""

    def __init__(self, clock: Clock, limit: int = 10, window_seconds: int = 900) -> None:
        self._clock = clock
        self._limit = limit
        self._window = timedelta(seconds=window_seconds)
        # Insertion order is window order (a new window is re-inserted at the end), so expired
        # entries are always at the front and can be dropped cheaply.
        self._windows: dict[str, _Window] = {}

    async def retry_after(self, key: str) -> int:
        now = self._clock.now()
        window = self._live(key, now)
        if window is None or window.failures < self._limit:
            return 0
        return max(1, math.ceil((window.ends_at - now).total_seconds()))

    async def record_failure(self, key: str) -> None:
        now = self._clock.now()
        self._drop_expired(now)
        window = self._live(key, now)
        if window is None:
            self._windows.pop(key, None)  # re-insert at the end to keep the order
            self._windows[key] = _Window(failures=1, ends_at=now + self._window)
        else:
            window.failures += 1

    async def reset(self, key: str) -> None:
        self._windows.pop(key, None)

    def _live(self, key: str, now: datetime) -> _Window | None:
        window = self._windows.get(key)
        if window is None or window.ends_at <= now:
            return None
        return window

    def _drop_expired(self, now: datetime) -> None:
        while self._windows:
            oldest = next(iter(self._windows))
            if self._windows[oldest].ends_at > now:
                return
            del self._windows[oldest]
