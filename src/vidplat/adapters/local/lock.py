"""Lock for a single process: the keys held now, in a set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from vidplat.domain.ports import Held


class InProcessLock:
    """Excludes within one event loop only: the embedded mode runs a single process.

    It keeps no done marks: in one process, the callers themselves know what they finished.
    """

    def __init__(self) -> None:
        self._held: set[str] = set()

    @asynccontextmanager
    async def hold_free(self, keys: Collection[str]) -> AsyncIterator[Held]:
        held = Held(frozenset(keys) - self._held)
        self._held |= held.keys
        try:
            yield held
        finally:
            self._held -= held.keys
