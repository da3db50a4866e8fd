"""The SAQ worker: upload processing and the cron schedules, calling the same use cases as the API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from uuid import UUID
from wsgiref.simple_server import WSGIServer

from prometheus_client import start_http_server
from saq import CronJob, Job, Worker
from saq.job import Status
from saq.types import Context, PartialTimersDict
from structlog.contextvars import bind_contextvars, clear_contextvars

from vidplat.adapters.metrics import registry
from vidplat.adapters.saq.queue import CARRIED, DELIVER_WEBHOOK, PROCESS_VIDEO
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain import events
from vidplat.settings import Settings

log = logging.getLogger(__name__)


class WorkerContext(Context, total=False):
    container: Container
    started: float


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


_OUTCOMES = {Status.COMPLETE: "complete", Status.FAILED: "failed", Status.ABORTED: "aborted"}


async def _bind_job(ctx: WorkerContext) -> None:
    """Before a job runs: its log lines (SAQ's too) carry the job and the request that enqueued it."""
    job = ctx["job"]
    clear_contextvars()
    bind_contextvars(job=job.function, job_key=job.key, **{k: v for k, v in job.meta.items() if k in CARRIED})
    ctx["started"] = time.perf_counter()


async def _record_job(ctx: WorkerContext) -> None:
    """After a job ran: count it by function and outcome (a failed attempt that will be retried: `retried`)."""
    job = ctx["job"]
    seconds = time.perf_counter() - ctx.get("started", time.perf_counter())
    outcome = _OUTCOMES.get(job.status, "retried")
    events.record(
        "job_finished", "job finished", level=logging.DEBUG, function=job.function, outcome=outcome, seconds=seconds
    )
    clear_contextvars()


async def process_video(ctx: WorkerContext, *, video_id: str, upload_key: str) -> None:
    async with _heartbeat(ctx.get("job")):
        await _container(ctx).use_cases.process_upload(UUID(video_id), upload_key)


async def expire_subscriptions(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.expire_subscriptions()


async def fail_stuck_uploads(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.fail_stuck_uploads()


async def sweep_storage(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.sweep_storage()


async def requeue_pending_uploads(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.requeue_pending_uploads()


async def deliver_webhook(ctx: WorkerContext, *, delivery_id: str) -> None:
    await _container(ctx).use_cases.deliver_webhook(UUID(delivery_id))


async def sweep_webhooks(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.sweep_webhooks()


async def purge_trash(ctx: WorkerContext) -> int:
    return await _container(ctx).use_cases.purge_trash()


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
        # Redis may have come back empty: the database knows which uploads still need their job.
        try:
            await requeue_pending_uploads(ctx)
        except Exception:
            log.exception("requeuing pending uploads at start-up failed; the cron will try again")

    async def shutdown(_: WorkerContext) -> None:
        await container.close()

    return Worker(
        container.saq_queue,
        functions=[(PROCESS_VIDEO, process_video), (DELIVER_WEBHOOK, deliver_webhook)],
        cron_jobs=[
            CronJob(expire_subscriptions, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(fail_stuck_uploads, cron="*/10 * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(sweep_storage, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(requeue_pending_uploads, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(sweep_webhooks, cron="* * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(purge_trash, cron="17 * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
            CronJob(expire_uploads, cron="*/5 * * * *", timeout=CRON_TIMEOUT_SECONDS, retries=CRON_RETRIES),
        ],
        startup=startup,
        shutdown=shutdown,
        before_process=_bind_job,
        after_process=_record_job,
        concurrency=concurrency,
        # No shutdown grace period: SAQ's would also wait out its upkeep timers (a minute) on
        # every stop. A job cut short by a stop is re-queued and retried, at the cost of one attempt.
        timers=timers,
    )


def serve_metrics(port: int) -> WSGIServer:
    """The worker's own Prometheus endpoint (its jobs' counts and durations), in a background thread."""
    server, _ = start_http_server(port, registry=registry())
    log.info("worker metrics on port %d", port)
    return server


async def run_worker(settings: Settings) -> None:
    container = bootstrap(settings)
    worker = make_worker(container)
    if settings.worker_metrics_port is not None:
        serve_metrics(settings.worker_metrics_port)
    # Jobs read rows once each: caching them would only cost a Redis subscription.
    await container.start(run_schedules=False, cache_reads=False)
    await worker.start()
