"""The embedded job runner: the enqueuing request's context goes along, and each attempt is counted."""

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
