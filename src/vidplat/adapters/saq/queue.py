"""JobQueue on SAQ."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from redis.exceptions import RedisError
from saq import Queue
from saq.queue.redis import PubSubMultiplexer, RedisQueue
from structlog.contextvars import get_contextvars

from vidplat.domain.errors import Unavailable

PROCESS_VIDEO = "process_video"
DELIVER_WEBHOOK = "deliver_webhook"
# One attempt is bounded at 10 s by the sender; SAQ does not retry it: the sweep does, on the delivery's backoff.
WEBHOOK_TIMEOUT_SECONDS = 30
ENQUEUE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How SAQ recovers a processing job.

    A killed worker's job is swept once its heartbeat goes stale and is retried (in seconds,
    whatever the timeout); the timeout bounds one attempt that hangs, so it must outlast the
    longest honest transcode: the longest video allowed (6 h), which the transcoder's CPU cap
    (TranscodeLimits.cpu_seconds) ends anyway. Together they make sure no upload stays pending
    (SAQ's defaults, no heartbeat and one attempt, would never recover it).
    """

    timeout_seconds: int = 6 * 3600  # 3 attempts stay inside FailStuckUploads' 24 hours
    heartbeat_seconds: int = 30
    retries: int = 3
    retry_delay_seconds: float = 2.0


class PrefixedQueue(RedisQueue):
    """SAQ's Redis queue with every key under its name, which starts with the configured prefix.

    SAQ itself puts `saq:` in front of each key, so two deployments sharing a Redis would share
    them, and the prefix would not say what to clean up. (Only its short-lived abort markers,
    named by the Job class, stay under `saq:abort:`.)
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Job updates are published on each job's id: listen where the ids now live.
        self._pubsub = PubSubMultiplexer(self.redis.pubsub(), prefix=self.job_id("").rstrip(":"))

    def namespace(self, key: str) -> str:
        return f"{self.name}:{key}"

    def job_id(self, job_key: str) -> str:
        return f"{self.name}:job:{job_key}"

    def job_key_from_id(self, job_id: str) -> str:
        return job_id.removeprefix(self.job_id(""))


class SaqJobQueue:
    def __init__(self, queue: Queue, policy: RetryPolicy | None = None) -> None:
        self._queue = queue
        self.policy = policy or RetryPolicy()

    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        try:
            # Bounded: the Redis client would otherwise spend seconds in its own reconnect retries.
            async with asyncio.timeout(ENQUEUE_TIMEOUT_SECONDS):
                await self._queue.enqueue(
                    PROCESS_VIDEO,
                    # One job per upload: a repeated enqueue of the same upload is a no-op.
                    key=f"{PROCESS_VIDEO}:{upload_key}",
                    kwargs={"video_id": str(video_id), "upload_key": upload_key},
                    timeout=self.policy.timeout_seconds,
                    heartbeat=self.policy.heartbeat_seconds,
                    retries=self.policy.retries,
                    retry_delay=self.policy.retry_delay_seconds,
                    retry_backoff=True,
                    # The request that enqueued it: the worker binds it to the job's log lines.
                    meta=_log_context(),
                )
        except (RedisError, TimeoutError) as exc:
            raise Unavailable("The job queue is unavailable; try again shortly.") from exc

    async def enqueue_webhook_delivery(self, delivery_id: UUID, attempts: int) -> None:
        try:
            async with asyncio.timeout(ENQUEUE_TIMEOUT_SECONDS):
                await self._queue.enqueue(
                    DELIVER_WEBHOOK,
                    # One job per attempt: the sweep finding it still due before it ran is a no-op.
                    key=f"{DELIVER_WEBHOOK}:{delivery_id}:{attempts}",
                    kwargs={"delivery_id": str(delivery_id)},
                    timeout=WEBHOOK_TIMEOUT_SECONDS,
                    retries=1,
                    meta=_log_context(),
                )
        except (RedisError, TimeoutError) as exc:
            raise Unavailable("The job queue is unavailable; try again shortly.") from exc


CARRIED = ("request_id", "organization_id", "user_id")


def _log_context() -> dict[str, Any]:
    bound = get_contextvars()
    return {name: bound[name] for name in CARRIED if name in bound}
