"""Embedded-mode background work: upload jobs as retried asyncio tasks, cron as a timer loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

log = logging.getLogger(__name__)

ProcessVideo = Callable[[UUID, str], Awaitable[None]]
DeliverWebhook = Callable[[UUID], Awaitable[object]]


class InProcessJobQueue:
    """JobQueue running each job in this process, retrying with backoff like the SAQ worker does."""

    def __init__(
        self,
        process: ProcessVideo,
        *,
        retries: int = 3,
        retry_delay_seconds: float = 1.0,
        deliver: DeliverWebhook | None = None,
    ) -> None:
        self._process = process
        self._deliver = deliver
        self._retries = retries
        self._retry_delay = retry_delay_seconds
        self._tasks: set[asyncio.Task[None]] = set()

    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        task = asyncio.create_task(self._run(video_id, upload_key), name=f"process-video-{video_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def enqueue_webhook_delivery(self, delivery_id: UUID, attempts: int) -> None:
        if self._deliver is None:
            return
        task = asyncio.create_task(self._attempt(self._deliver, delivery_id), name=f"deliver-webhook-{delivery_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _attempt(deliver: DeliverWebhook, delivery_id: UUID) -> None:
        """One attempt; the delivery's own backoff (the sweep) retries, not this runner."""
        try:
            await deliver(delivery_id)
        except Exception:
            log.exception("webhook delivery %s failed", delivery_id)

    async def _run(self, video_id: UUID, upload_key: str) -> None:
        for attempt in range(1, self._retries + 1):
            try:
                await self._process(video_id, upload_key)
                return
            except Exception:
                log.exception("processing video %s failed (attempt %d of %d)", video_id, attempt, self._retries)
                await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[object]]


class InProcessScheduler:
    """Runs periodic jobs on timers until stopped; one failing run never stops the loop."""

    def __init__(self, jobs: Sequence[Periodic]) -> None:
        self._jobs = jobs
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop(job), name=f"cron-{job.name}") for job in self._jobs]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    @staticmethod
    async def _loop(job: Periodic) -> None:
        while True:
            try:
                await job.run()
            except Exception:
                log.exception("periodic job %s failed", job.name)
            await asyncio.sleep(job.every_seconds)
