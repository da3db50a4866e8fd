"""The SAQ worker: upload processing and the cron schedules, calling the same use cases as the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from uuid import UUID

from saq import CronJob, Job, Worker
from saq.types import Context, PartialTimersDict

from vidplat.adapters.saq.queue import PROCESS_VIDEO
from vidplat.bootstrap import Container, bootstrap
from vidplat.settings import Settings

log = logging.getLogger(__name__)


class WorkerContext(Context, total=False):
    container: Container


CRON_TIMEOUT_SECONDS = 300
CRON_RETRIES = 3


def _container(ctx: WorkerContext) -> Container:
    return ctx["container"]


@contextlib.asynccontextmanager
async def _heartbeat(job: Job | None) -> AsyncIterator[None]:
    """Touch the job while it runs, so only a worker that died lets it go stale and be retried."""

    async def beat() -> None:
        while job is not None and job.heartbeat:
            await asyncio.sleep(job.heartbeat / 3)
            await job.update()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def process_video(ctx: WorkerContext, *, video_id: str, upload_key: str) -> None:
    async with _heartbeat(ctx.get("job")):
        await _container(ctx).use_cases.process_upload(UUID(video_id), upload_key)


async def expire_subscriptions(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.expire_subscriptions()


async def fail_stuck_uploads(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.fail_stuck_uploads()


async def sweep_storage(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.sweep_storage()


async def expire_uploads(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.expire_uploads()


def make_worker(
    container: Container, *, concurrency: int = 4, timers: PartialTimersDict | None = None
) -> Worker[WorkerContext]:
    """A SAQ worker over the container's queue; `container` must use the Redis wiring."""
    if container.saq_queue is None:
        raise RuntimeError("the worker needs VIDPLAT_REDIS_URL: without it jobs run inside `vidplat serve`")

    async def startup(ctx: WorkerContext) -> None:
        ctx["container"] = container

    async def shutdown(_: WorkerContext) -> None:
        await container.close()

    return Worker(
        container.saq_queue,
        functions=[(PROCESS_VIDEO, process_video)],
        cron_jobs=[
            CronJob(expire_subscriptions, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(fail_stuck_uploads, cron="*/10 * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(sweep_storage, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(expire_uploads, cron="*/5 * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
        ],
        startup=startup,
        shutdown=shutdown,
        concurrency=concurrency,
        # No shutdown grace period: SAQ's would also wait out its upkeep timers (a minute) on
        # every stop. A job cut short by a stop is re-queued and retried, at the cost of one attempt.
        timers=timers,
    )


async def run_worker(settings: Settings) -> None:
    container = bootstrap(settings)
    worker = make_worker(container)
    # Jobs read rows once each: caching them would only cost a Redis subscription.
    await container.start(run_schedules=False, cache_reads=False)
    await worker.start()
