"""Work a use case leaves running after it has answered, finished before the process stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    """Tasks nobody awaits to answer a request, kept so that a graceful stop can still finish them."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run `work` on its own; its failure is logged, never raised to anyone."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def settled(self) -> None:
        """Wait until nothing is pending, including work spawned meanwhile."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def drain(self, grace_seconds: float) -> None:
        """Wait for the pending work up to `grace_seconds`, then cancel what is left."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(grace_seconds):
                await self.settled()
        if self._tasks:
            log.error("stopping with %d background tasks unfinished after %.0f s", len(self._tasks), grace_seconds)
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s failed", task.get_name(), exc_info=task.exception())
