"""The SAQ worker on Redis and PostgreSQL: processing uploads, surviving a killed worker, the expiry cron.

Workers are the real `make_worker` over their own bootstrapped container, as `vidplat worker`
runs them. The killed worker is a separate process ended with SIGKILL, so it cannot tell SAQ
anything: only the heartbeat going stale lets another worker's sweep find and retry its job.
Every wait is a poll with a hard upper bound.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from saq import Worker
from saq.job import Job, Status
from saq.types import PartialTimersDict

from tests.integration.conftest import Platform, SettableClock, eventually
from tests.media import make_mp4, truncate
from vidplat.adapters.saq.queue import PROCESS_VIDEO, RetryPolicy
from vidplat.bootstrap import Container
from vidplat.domain.accounts.model import Principal
from vidplat.domain.videos.keys import media_key
from vidplat.domain.videos.model import Video, VideoStatus
from vidplat.domain.videos.upload import UploadCommand
from vidplat.entrypoints.worker import CRON_RETRIES, CRON_TIMEOUT_SECONDS, WorkerContext, make_worker

# Recovery within seconds instead of minutes; production uses the same mechanism with longer times.
FAST_RETRIES = RetryPolicy(timeout_seconds=10, heartbeat_seconds=1, retries=3, retry_delay_seconds=0.2)
FAST_TIMERS: PartialTimersDict = {"sweep": 1, "schedule": 1, "abort": 1, "worker_info": 2}
SAQ_DEFAULT_TIMEOUT = 10
BEFORE_PROCESSING = "before-processing"
AFTER_MOVING_THE_FILE = "after-moving-the-file"

# A worker process (real make_worker, real heartbeat) whose processing job never ends, to be SIGKILLed.
# It hangs either before any work or just after moving the file to its final key (row not yet updated).
_DOOMED_WORKER = f"""
import asyncio, dataclasses, sys
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.worker import make_worker
from vidplat.settings import Settings

class HangAfterMove:
    def __init__(self, storage):
        self._storage = storage

    def __getattr__(self, name):
        return getattr(self._storage, name)

    async def move(self, source, target):
        await self._storage.move(source, target)
        await asyncio.Event().wait()

async def hang(video_id, upload_key):
    await asyncio.Event().wait()

async def main(crash_point):
    container = bootstrap(Settings.from_env())
    process = container.use_cases.process_upload
    if crash_point == "{BEFORE_PROCESSING}":
        process = hang
    else:
        process = dataclasses.replace(process, storage=HangAfterMove(process.storage))
    container.use_cases = dataclasses.replace(container.use_cases, process_upload=process)
    await container.start(run_schedules=False, cache_reads=False)
    await make_worker(container, concurrency=1, timers={FAST_TIMERS!r}).start()

asyncio.run(main(sys.argv[1]))
"""


@asynccontextmanager
async def running_worker(
    platform: Platform, *, timers: PartialTimersDict | None = None
) -> AsyncIterator[Worker[WorkerContext]]:
    """A worker over a container of its own, started like `vidplat worker` and stopped gracefully."""
    container = platform.container()
    await container.start(run_schedules=False, cache_reads=False)
    worker = make_worker(container, concurrency=2, timers=timers)
    task = asyncio.create_task(worker.start())
    try:
        yield worker
    finally:
        await worker.stop()  # its shutdown hook closes the container
        async with asyncio.timeout(15):
            await task


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(container: Container, admin: Principal, path: Path) -> Video:
    data = await asyncio.to_thread(path.read_bytes)
    video = await container.use_cases.upload_video(
        admin, UploadCommand(title=path.stem, description=None, chunks=_chunks(data))
    )
    assert video.status is VideoStatus.PROCESSING
    assert video.pending_key is not None
    return video


async def _settled(container: Container, admin: Principal, video_id: UUID) -> Video | None:
    """The video once processing is over, else None."""
    video = await container.use_cases.get_video(admin, video_id)
    return None if video.status is VideoStatus.PROCESSING else video


async def _job(container: Container, upload_key: str) -> Job:
    assert container.saq_queue is not None
    job = await container.saq_queue.job(f"{PROCESS_VIDEO}:{upload_key}")
    assert job is not None
    return job


async def test_a_saq_worker_processes_an_upload_until_it_is_ready(platform: Platform) -> None:
    api = await platform.started(job_policy=FAST_RETRIES)
    admin = await platform.sign_up(api, "Worker Co")
    video = await _upload(api, admin, make_mp4(platform.data_dir / "first.mp4", seconds=2, width=96, height=64))
    assert video.pending_key is not None

    async with running_worker(platform):
        done = await eventually(lambda: _settled(api, admin, video.id), within=60, what="processing")

    assert done.status is VideoStatus.READY, done.failure_reason
    assert (done.width, done.height, done.pending_key) == (96, 64, None)
    assert done.duration_seconds is not None
    assert 1.5 <= done.duration_seconds <= 2.5
    assert await api.use_cases.get_thumbnail(admin, video.id)
    assert done.storage_key == media_key(video.pending_key)
    assert (api.settings.media_dir / done.storage_key).stat().st_size == done.size_bytes
    assert not (api.settings.media_dir / video.pending_key).exists()  # the staged upload was moved, not copied
    job = await _job(api, video.pending_key)
    assert (job.status, job.attempts) == (Status.COMPLETE, 1)


async def test_a_saq_worker_marks_an_unreadable_upload_failed_and_drops_its_bytes(platform: Platform) -> None:
    api = await platform.started(job_policy=FAST_RETRIES)
    admin = await platform.sign_up(api, "Broken Uploads")
    clip = make_mp4(platform.data_dir / "broken.mp4", seconds=2)
    broken = truncate(clip, clip.stat().st_size // 2)  # starts like an MP4, its index is cut off
    video = await _upload(api, admin, broken)
    assert video.pending_key is not None

    async with running_worker(platform):
        done = await eventually(lambda: _settled(api, admin, video.id), within=60, what="processing")

    assert done.status is VideoStatus.FAILED
    assert done.failure_reason
    assert not (api.settings.media_dir / video.pending_key).exists()


@pytest.mark.parametrize("crash_point", [BEFORE_PROCESSING, AFTER_MOVING_THE_FILE])
async def test_the_job_of_a_killed_worker_is_swept_and_retried_until_the_video_is_ready(
    platform: Platform, crash_point: str
) -> None:
    api = await platform.started(job_policy=FAST_RETRIES)
    admin = await platform.sign_up(api, "Crash Co")
    media = api.settings.media_dir
    log = platform.data_dir / "doomed-worker.log"
    with log.open("wb") as output:
        doomed = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _DOOMED_WORKER,
            crash_point,
            env={**os.environ, **platform.env()},
            stdout=output,
            stderr=output,
        )
    try:
        video = await _upload(api, admin, make_mp4(platform.data_dir / "survivor.mp4"))
        assert video.pending_key is not None
        key = video.pending_key

        async def stuck_mid_job() -> Job | None:
            assert doomed.returncode is None, f"the doomed worker exited: {log.read_text()}"
            job = await _job(api, key)
            if job.status is not Status.ACTIVE:
                return None
            if crash_point == AFTER_MOVING_THE_FILE and not (media / media_key(key)).exists():
                return None
            return job

        job = await eventually(stuck_mid_job, within=60, what=lambda: f"the doomed worker's hang ({log.read_text()})")
        assert job.attempts == 1
        await asyncio.sleep(FAST_RETRIES.heartbeat_seconds * 2)  # its heartbeat keeps the job alive meanwhile
        assert (await _job(api, key)).status is Status.ACTIVE
    finally:
        with suppress(ProcessLookupError):
            doomed.kill()  # SIGKILL: no cleanup, no retry, the job stays "active" in Redis
        await doomed.wait()

    async with running_worker(platform, timers=FAST_TIMERS):
        done = await eventually(lambda: _settled(api, admin, video.id), within=60, what="the retried processing")

    assert done.status is VideoStatus.READY, done.failure_reason
    assert (done.storage_key, done.pending_key) == (media_key(key), None)
    assert (media / media_key(key)).exists()
    assert not (media / key).exists()
    assert await api.use_cases.get_thumbnail(admin, video.id)
    job = await _job(api, key)
    assert (job.status, job.attempts) == (Status.COMPLETE, 2)


async def test_the_worker_runs_the_expiry_cron_with_a_timeout_and_retries(platform: Platform) -> None:
    # Bought PAID 20 days ago: it lapsed 5 days ago and is still the current subscription.
    then = await platform.started(clock=SettableClock.starting_now(-timedelta(days=20)))
    admin = await platform.sign_up(then, "Cron Co")
    await then.use_cases.subscribe(admin, "PAID")
    queue = then.saq_queue
    assert queue is not None

    async with running_worker(platform, timers=FAST_TIMERS) as worker:
        crons = {cron.function.__name__: cron for cron in worker.cron_jobs}
        expire = crons["expire_subscriptions"]
        assert expire.cron == "* * * * *"
        assert (expire.timeout, expire.retries) == (CRON_TIMEOUT_SECONDS, CRON_RETRIES)
        assert expire.timeout is not None
        assert expire.retries is not None
        assert expire.timeout > SAQ_DEFAULT_TIMEOUT
        assert expire.retries > 1
        # What the scheduler puts on the queue carries them too (SAQ's defaults are 10 s and one attempt).
        scheduled = await eventually(lambda: queue.job("cron:expire_subscriptions"), within=10, what="scheduling")
        assert (scheduled.timeout, scheduled.retries) == (CRON_TIMEOUT_SECONDS, CRON_RETRIES)
        # Run it now through the worker (its context, its container) instead of waiting for the minute.
        run = await queue.enqueue("expire_subscriptions", timeout=expire.timeout, retries=expire.retries)
        assert run is not None
        await run.refresh(until_complete=30)

    assert (run.status, run.result) == (Status.COMPLETE, 1), run.error
    subscriptions = await platform.rows(
        "SELECT plan_code, ended_at IS NULL FROM subscriptions WHERE organization_id = :org ORDER BY started_at, id",
        org=admin.organization_id,
    )
    assert subscriptions == [("TRIAL", False), ("PAID", False), ("TRIAL", True)]


async def test_the_worker_sweeps_storage_every_minute_removing_only_old_unreferenced_objects(
    platform: Platform,
) -> None:
    api = await platform.started()
    admin = await platform.sign_up(api, "Sweep Co")
    media = api.settings.media_dir
    orphan = media / f"orgs/{admin.organization_id}/uploads/{uuid4()}/{uuid4()}"  # a request that died
    fresh = media / f"orgs/{admin.organization_id}/uploads/{uuid4()}/{uuid4()}"  # one still recording
    for path in (orphan, fresh):
        path.parent.mkdir(parents=True)
        path.write_bytes(b"staged bytes")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    queue = api.saq_queue
    assert queue is not None

    async with running_worker(platform, timers=FAST_TIMERS) as worker:
        sweep = {cron.function.__name__: cron for cron in worker.cron_jobs}["sweep_storage"]
        assert sweep.cron == "* * * * *"
        run = await queue.enqueue("sweep_storage", timeout=sweep.timeout, retries=sweep.retries)
        assert run is not None
        await run.refresh(until_complete=30)

    assert (run.status, run.result) == (Status.COMPLETE, 1), run.error
    assert not orphan.exists()
    assert fresh.exists()


async def test_the_worker_purges_trash_past_its_retention_hourly(platform: Platform) -> None:
    then = await platform.started(clock=SettableClock.starting_now(-timedelta(days=40)))
    admin = await platform.sign_up(then, "Purge Co")
    video = await _upload(then, admin, make_mp4(platform.data_dir / "old.mp4", seconds=1, width=64, height=48))
    queue = then.saq_queue
    assert queue is not None

    async with running_worker(platform, timers=FAST_TIMERS) as worker:
        done = await eventually(lambda: _settled(then, admin, video.id), within=60, what="processing")
        assert done.storage_key is not None
        await then.use_cases.delete_video(admin, video.id)  # 40 days ago
        purge = {cron.function.__name__: cron for cron in worker.cron_jobs}["purge_trash"]
        assert purge.cron == "17 * * * *"
        run = await queue.enqueue("purge_trash", timeout=purge.timeout, retries=purge.retries)
        assert run is not None
        await run.refresh(until_complete=30)

    assert (run.status, run.result) == (Status.COMPLETE, 1), run.error
    assert await platform.rows("SELECT purged_at IS NOT NULL FROM videos WHERE id = :id", id=video.id) == [(True,)]
    assert not (then.settings.media_dir / done.storage_key).exists()
