"""The stuck-upload sweep never fails an upload that the job queue is still allowed to retry."""

from __future__ import annotations

from datetime import timedelta

from vidplat.adapters.saq.queue import RetryPolicy
from vidplat.domain.videos.processing import FailStuckUploads


def test_stuck_uploads_are_failed_only_after_the_whole_retry_budget() -> None:
    policy = RetryPolicy()
    delays = sum(policy.retry_delay_seconds * 2**attempt for attempt in range(policy.retries))
    budget = timedelta(seconds=policy.retries * policy.timeout_seconds + delays)
    max_age = FailStuckUploads.__dataclass_fields__["max_age"].default
    assert isinstance(max_age, timedelta)
    assert budget < max_age
