"""The embedded job runner: one job per upload, as SAQ's job key keeps; the request's context goes along."""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID, uuid4

from structlog.contextvars import bound_contextvars, get_contextvars

from tests.log_capture import captured_logs
from vidplat.adapters.local.jobs import InProcessJobQueue


async def test_a_job_runs_with_its_requests_context_and_reports_each_attempts_outcome() -> None:
    seen: list[dict[str, object]] = []

    async def flaky(video_id: UUID, upload_key: str) -> None:
        seen.append(get_contextvars())
        if len(seen) < 3:
            raise RuntimeError("transient")

    jobs = InProcessJobQueue(flaky, retries=3, retry_delay_seconds=0)
    done = asyncio.Event()
    with captured_logs(level=logging.DEBUG) as logs:
        with bound_contextvars(request_id="req-local", user_id="u-1"):
            await jobs.enqueue_video_processing(uuid4(), "orgs/o/uploads/v/u")
        assert get_contextvars() == {}  # the request's context stays the request's
        for _ in range(100):  # bounded: three attempts without delay need a few loop turns
            if len(seen) == 3:
                done.set()
                break
            await asyncio.sleep(0)
        await jobs.close()

    assert done.is_set()
    assert {(c["request_id"], c["user_id"], c["job"]) for c in seen} == {("req-local", "u-1", "process_video")}
    finished = [line for line in logs.lines() if line.get("domain_event") == "job_finished"]
    assert [(line["function"], line["outcome"]) for line in finished] == [
        ("process_video", "retried"),
        ("process_video", "retried"),
        ("process_video", "complete"),
    ]
    assert all(line["request_id"] == "req-local" for line in finished)


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
