"""Lock for a single process: one asyncio.Lock per key, dropped when nobody uses it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from vidplat.domain.ports import LockUnavailable


@dataclass
class _Entry:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holders plus waiters; the entry is removed when it drops to zero


class InProcessLock:
    """Serialises within one event loop only: the embedded mode runs a single process."""

    def __init__(self, wait_seconds: float = 5) -> None:
        self._wait_seconds = wait_seconds
        self._entries: dict[str, _Entry] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        entry = self._entries.setdefault(key, _Entry())
        entry.users += 1
        try:
            try:
                async with asyncio.timeout(self._wait_seconds):
                    await entry.lock.acquire()
            except TimeoutError as exc:
                raise LockUnavailable(f"timed out waiting for lock {key!r}") from exc
            try:
                yield
            finally:
                entry.lock.release()
        finally:
            self._leave(key, entry)

    @asynccontextmanager
    async def hold_free(self, keys: Collection[str]) -> AsyncIterator[frozenset[str]]:
        # A key with an entry is held or waited for; any other is free, and taking it cannot wait.
        held = [key for key in dict.fromkeys(keys) if key not in self._entries]
        for key in held:
            entry = self._entries[key] = _Entry(users=1)
            await entry.lock.acquire()
        try:
            yield frozenset(held)
        finally:
            for key in held:
                entry = self._entries[key]
                entry.lock.release()
                self._leave(key, entry)

    def _leave(self, key: str, entry: _Entry) -> None:
        entry.users -= 1
        if entry.users == 0:
            del self._entries[key]
