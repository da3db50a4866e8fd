"""Embedded-mode background work: upload jobs as retried asyncio tasks, cron as a timer loop."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

from structlog.contextvars import bind_contextvars

from vidplat.domain import events

log = logging.getLogger(__name__)

ProcessVideo = Callable[[UUID, str], Awaitable[None]]
DeliverWebhook = Callable[[UUID], Awaitable[object]]
PROCESS_VIDEO = "process_video"  # the SAQ worker's name for the same job
DELIVER_WEBHOOK = "deliver_webhook"


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
        self._tasks: dict[str, asyncio.Task[None]] = {}  # by upload key: one job per upload, as SAQ keeps

    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        # The task starts with a copy of the caller's context: the request's id and caller stay bound.
        if upload_key in self._tasks:
            return
        task = asyncio.create_task(self._run(video_id, upload_key), name=f"process-video-{video_id}")
        self._tasks[upload_key] = task
        task.add_done_callback(lambda _: self._tasks.pop(upload_key, None))

    async def enqueue_webhook_delivery(self, delivery_id: UUID, attempts: int) -> None:
        key = f"{DELIVER_WEBHOOK}:{delivery_id}:{attempts}"  # one job per attempt, as SAQ keeps
        if self._deliver is None or key in self._tasks:
            return
        task = asyncio.create_task(
            self._attempt(self._deliver, delivery_id, key), name=f"deliver-webhook-{delivery_id}"
        )
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    @staticmethod
    async def _attempt(deliver: DeliverWebhook, delivery_id: UUID, key: str) -> None:
        """One attempt; the delivery's own backoff (the sweep) retries, not this runner."""
        bind_contextvars(job=DELIVER_WEBHOOK, job_key=key)
        started, outcome = time.perf_counter(), "complete"
        try:
            await deliver(delivery_id)
        except Exception:
            outcome = "failed"
            log.exception("webhook delivery %s failed", delivery_id)
        _finished(DELIVER_WEBHOOK, outcome, started)

    async def _run(self, video_id: UUID, upload_key: str) -> None:
        bind_contextvars(job=PROCESS_VIDEO, job_key=f"{PROCESS_VIDEO}:{upload_key}")
        for attempt in range(1, self._retries + 1):
            started = time.perf_counter()
            try:
                await self._process(video_id, upload_key)
            except Exception:
                log.exception("processing video %s failed (attempt %d of %d)", video_id, attempt, self._retries)
            else:
                _finished(PROCESS_VIDEO, "complete", started)
                return
            _finished(PROCESS_VIDEO, "failed" if attempt == self._retries else "retried", started)
            await asyncio.sleep(self._retry_delay * 2 ** (attempt - 1))

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


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
        bind_contextvars(job=job.name)
        while True:
            outcome, started = "complete", time.perf_counter()
            try:
                await job.run()
            except Exception:
                outcome = "failed"
                log.exception("periodic job %s failed", job.name)
            _finished(job.name, outcome, started)
            await asyncio.sleep(job.every_seconds)


def _finished(function: str, outcome: str, started: float) -> None:
    seconds = time.perf_counter() - started
    events.record(
        "job_finished", "job finished", level=logging.DEBUG, function=function, outcome=outcome, seconds=seconds
    )
