"""A clock for tests that drive the wired app: wall time plus an offset the test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ShiftableClock:
    """Time passes as usual, and can jump forward: tokens, grants and plans expire without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
