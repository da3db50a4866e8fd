"""What the API tests control around the app: the clock, and the production wiring's SAQ worker."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future

from anyio.from_thread import BlockingPortal
from saq import Worker
from saq.types import PartialTimersDict

from vidplat.adapters.saq.queue import RetryPolicy
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.worker import WorkerContext, make_worker
from vidplat.settings import Settings

# A failed attempt is retried quickly, and a dead one is noticed in seconds rather than minutes.
FAST_RETRIES = RetryPolicy(timeout_seconds=60, heartbeat_seconds=5, retries=2, retry_delay_seconds=0.1)
WORKER_TIMERS: PartialTimersDict = {"schedule": 1, "sweep": 5, "abort": 1, "worker_info": 5}
WORKER_CONCURRENCY = 2


class BackgroundWorker:
    """A real SAQ worker consuming the app's queue, running in the app's event loop (the portal's).

    Each start builds its own container, as the separate `vidplat worker` process would; it keeps
    the system clock, so only the API sees the test's time jumps (expiry is driven explicitly).
    """

    def __init__(self, settings: Settings, portal: BlockingPortal) -> None:
        self._settings = settings
        self._portal = portal
        self._worker: Worker[WorkerContext] | None = None
        self._running: Future[None] | None = None

    def start(self) -> None:
        container = bootstrap(self._settings, job_policy=FAST_RETRIES)
        worker = make_worker(container, concurrency=WORKER_CONCURRENCY, timers=WORKER_TIMERS)
        # Signal handlers can only be installed from the main thread, and belong to pytest anyway.
        worker.SIGNALS = []
        self._worker, self._running = worker, self._portal.start_task_soon(worker.start)

    async def stop(self) -> None:
        """Stop taking jobs; the worker's shutdown closes its container."""
        if self._worker is None or self._running is None:
            return
        await asyncio.wrap_future(self._portal.start_task_soon(self._worker.stop))
        await asyncio.wrap_future(self._running)
        self._worker = self._running = None
