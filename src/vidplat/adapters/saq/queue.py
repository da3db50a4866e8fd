"""JobQueue on SAQ."""

from __future__ import annotations

from uuid import UUID

from saq import Queue

PROCESS_VIDEO = "process_video"

# A killed worker's job is swept once its heartbeat goes stale and retried; the timeout
# bounds one attempt on a 2 GiB file. Together they make sure no upload stays pending.
PROCESS_TIMEOUT_SECONDS = 1800
PROCESS_HEARTBEAT_SECONDS = 30
PROCESS_RETRIES = 4


class SaqJobQueue:
    def __init__(self, queue: Queue) -> None:
        self._queue = queue

    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        await self._queue.enqueue(
            PROCESS_VIDEO,
            # One job per upload: a repeated enqueue of the same upload is a no-op.
            key=f"{PROCESS_VIDEO}:{upload_key}",
            video_id=str(video_id),
            upload_key=upload_key,
            timeout=PROCESS_TIMEOUT_SECONDS,
            heartbeat=PROCESS_HEARTBEAT_SECONDS,
            retries=PROCESS_RETRIES,
            retry_delay=2.0,
            retry_backoff=True,
        )
