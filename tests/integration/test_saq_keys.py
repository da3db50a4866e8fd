"""SAQ on Redis: every key it writes sits under the configured prefix; a job takes its request's ids along."""

from __future__ import annotations

import asyncio
from uuid import uuid4

from redis.asyncio import Redis
from saq import Worker
from saq.job import Status
from saq.types import Context, PartialTimersDict
from structlog.contextvars import bound_contextvars

from tests.integration.conftest import eventually
from vidplat.adapters.saq.queue import PROCESS_VIDEO, PrefixedQueue, SaqJobQueue


async def test_queue_worker_and_job_keys_all_start_with_the_prefix_and_the_job_carries_the_request(
    client: Redis, prefix: str, redis_service: tuple[str, str]
) -> None:
    queue = PrefixedQueue.from_url(redis_service[0], name=f"{prefix}:jobs")
    ran: list[str] = []

    async def process_video(_: Context, *, video_id: str, upload_key: str) -> None:
        ran.append(video_id)

    timers: PartialTimersDict = {"worker_info": 1, "sweep": 1, "abort": 1, "schedule": 1}
    worker = Worker(queue, functions=[(PROCESS_VIDEO, process_video)], timers=timers)
    worker.SIGNALS = []
    await queue.connect()
    running = asyncio.create_task(worker.start())
    try:
        video_id = uuid4()
        with bound_contextvars(request_id="req-9", organization_id="org-9", user_id="user-9", unrelated="x"):
            await SaqJobQueue(queue).enqueue_video_processing(video_id, "orgs/o/uploads/v/u")
        job = await queue.job(f"{PROCESS_VIDEO}:orgs/o/uploads/v/u")
        assert job is not None
        assert job.meta == {"request_id": "req-9", "organization_id": "org-9", "user_id": "user-9"}

        async def done() -> bool | None:
            finished = await queue.job(f"{PROCESS_VIDEO}:orgs/o/uploads/v/u")
            return True if finished is not None and finished.status == Status.COMPLETE else None

        await eventually(done, within=10, what="the job to complete")
        assert ran == [str(video_id)]
        keys = [key.decode() async for key in client.scan_iter(match=f"*{prefix}*")]
        assert f"{prefix}:jobs:job:{PROCESS_VIDEO}:orgs/o/uploads/v/u" in keys
        assert f"{prefix}:jobs:stats" in keys
        assert any(key.startswith(f"{prefix}:jobs:worker_info:") for key in keys), keys
        assert all(key.startswith(f"{prefix}:jobs:") for key in keys), keys
    finally:
        await worker.stop()
        await asyncio.gather(running, return_exceptions=True)
        await queue.disconnect()
