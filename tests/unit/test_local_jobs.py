"""The embedded job runner keeps one job per upload, as SAQ's job key does."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from vidplat.adapters.local.jobs import InProcessJobQueue


async def test_an_upload_queued_again_while_its_job_runs_is_not_run_twice() -> None:
    gate, runs = asyncio.Event(), []

    async def process(video_id: UUID, upload_key: str) -> None:
        runs.append(upload_key)
        await gate.wait()

    queue = InProcessJobQueue(process)
    video = uuid4()
    await queue.enqueue_video_processing(video, "uploads/a")
    await asyncio.sleep(0)
    await queue.enqueue_video_processing(video, "uploads/a")
    await queue.enqueue_video_processing(video, "uploads/b")
    await asyncio.sleep(0)
    assert runs == ["uploads/a", "uploads/b"]

    gate.set()
    for _ in range(3):  # both jobs end, and their keys are released
        await asyncio.sleep(0)
    await queue.enqueue_video_processing(video, "uploads/a")  # e.g. a sweep after the job failed for good
    await asyncio.sleep(0)
    assert runs == ["uploads/a", "uploads/b", "uploads/a"]
    await queue.close()
