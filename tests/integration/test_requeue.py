"""Uploads whose jobs were lost (Redis restarted empty, an embedded process restarted) are queued again.

The database is the record of what still needs processing; the queue's job key keeps one job
per upload, so a sweep that finds an upload already queued adds nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

from redis.asyncio import Redis
from saq import Queue
from saq.job import Status

from tests.integration.conftest import PASSWORD, Platform, eventually
from tests.integration.test_worker import FAST_RETRIES, running_worker
from tests.media import make_mp4
from vidplat.adapters.saq.queue import PROCESS_VIDEO
from vidplat.adapters.sql.migrate import run_migrations_async
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.model import Principal
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.videos.model import Video, VideoStatus
from vidplat.domain.videos.upload import UploadCommand
from vidplat.settings import Settings


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(container: Container, admin: Principal, path: Path) -> Video:
    data = await asyncio.to_thread(path.read_bytes)
    video = await container.use_cases.upload_video(
        admin, UploadCommand(title=path.stem, description=None, chunks=_chunks(data))
    )
    assert video.pending_key is not None
    return video


async def _forget_jobs(queue: Queue) -> None:
    """What Redis restarting empty does to this deployment's queue: only this test's keys, none else."""
    redis: Redis = queue.redis  # type: ignore[attr-defined]
    for pattern in {f"{queue.namespace('')}*", f"{queue.job_id('')}*"}:  # type: ignore[attr-defined]
        keys = [key async for key in redis.scan_iter(match=pattern, count=500)]
        if keys:
            await redis.delete(*keys)


async def _ready(container: Container, admin: Principal, video_id: UUID) -> Video | None:
    video = await container.use_cases.get_video(admin, video_id)
    return None if video.status is VideoStatus.PROCESSING else video


async def test_a_sweep_puts_a_lost_job_back_once_and_the_worker_processes_it(platform: Platform) -> None:
    api = await platform.started(job_policy=FAST_RETRIES)
    admin = await platform.sign_up(api, "Lost Jobs Co")
    video = await _upload(api, admin, make_mp4(platform.data_dir / "lost.mp4"))
    queue = api.saq_queue
    assert queue is not None
    job_key = f"{PROCESS_VIDEO}:{video.pending_key}"
    assert await queue.job(job_key) is not None

    await _forget_jobs(queue)
    assert await queue.job(job_key) is None

    assert await api.use_cases.requeue_pending_uploads() == 1
    assert await api.use_cases.requeue_pending_uploads() == 1  # still pending: the same job, not a second
    requeued = await queue.job(job_key)
    assert requeued is not None
    assert requeued.status is Status.QUEUED
    assert await queue.count("queued") == 1

    async with running_worker(platform):
        done = await eventually(lambda: _ready(api, admin, video.id), within=60, what="processing")

    assert done.status is VideoStatus.READY, done.failure_reason
    finished = await queue.job(job_key)
    assert finished is not None
    assert (finished.status, finished.attempts) == (Status.COMPLETE, 1)
    assert await api.use_cases.requeue_pending_uploads() == 0


async def test_a_worker_starting_after_redis_lost_the_queue_requeues_and_processes(platform: Platform) -> None:
    api = await platform.started(job_policy=FAST_RETRIES)
    admin = await platform.sign_up(api, "Restarted Redis Co")
    video = await _upload(api, admin, make_mp4(platform.data_dir / "restart.mp4"))
    assert api.saq_queue is not None
    await _forget_jobs(api.saq_queue)

    async with running_worker(platform) as worker:
        crons = {cron.function.__name__: cron.cron for cron in worker.cron_jobs}
        assert crons["requeue_pending_uploads"] == "* * * * *"
        done = await eventually(lambda: _ready(api, admin, video.id), within=60, what="processing after start-up")

    assert done.status is VideoStatus.READY, done.failure_reason


async def test_an_embedded_process_restarted_with_a_pending_upload_processes_it(tmp_path: Path) -> None:
    settings = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path / "data"), "VIDPLAT_ARGON2_MEMORY_KIB": "1024"})
    await run_migrations_async(settings.database_url)
    first = bootstrap(settings)
    await first.start(run_schedules=False)
    uc = first.use_cases
    made = await uc.sign_up(SignUpCommand(name="Embedded Co", admin_email="a@example.com", admin_password=PASSWORD))
    tokens = await uc.login(LoginCommand(organization=made.organization.slug, email="a@example.com", password=PASSWORD))
    admin = await uc.authenticate(tokens.access_token)
    video = await _upload(first, admin, make_mp4(tmp_path / "pending.mp4"))
    await first.close()  # stopped before its in-process job ran: the job is gone, the upload is not
    assert (await _ready_or_pending(settings, admin, video.id)).status is VideoStatus.PROCESSING

    second = bootstrap(settings)
    await second.start()  # as `vidplat serve` starts it, schedules included
    try:
        done = await eventually(lambda: _ready(second, admin, video.id), within=60, what="processing after restart")
    finally:
        await second.close()

    assert done.status is VideoStatus.READY, done.failure_reason


async def _ready_or_pending(settings: Settings, admin: Principal, video_id: UUID) -> Video:
    """The row as a process that runs nothing in the background sees it."""
    container = bootstrap(settings)
    try:
        return await container.use_cases.get_video(admin, video_id)
    finally:
        await container.close()
