"""Prometheus metrics of jobs, uploads, processing, credits and subscriptions.

They are counted from the domain events (`vidplat.domain.events`), so no use case knows about
Prometheus. Under `serve --workers N` every process writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (prometheus_client's multiprocess mode) and a scrape adds them up.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, multiprocess

from vidplat.domain.events import EVENTS

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

JOBS = Counter("vidplat_jobs", "Background job runs, by function and outcome", ["function", "outcome"])
JOB_SECONDS = Histogram(
    "vidplat_job_duration_seconds",
    "Duration of a job run, by function and outcome",
    ["function", "outcome"],
    buckets=_SECONDS,
)
UPLOADS = Counter("vidplat_uploads", "Uploads accepted and handed to processing")
PROCESSED = Counter("vidplat_videos_processed", "Uploads processed, by outcome (ready or failed)", ["outcome"])
PROCESSING_SECONDS = Histogram(
    "vidplat_video_processing_seconds",
    "Media work per upload that became ready: probe, thumbnail and publish, in seconds",
    buckets=_SECONDS,
)
CREDITS = Counter("vidplat_view_credits", "View credits awarded (first views)")
SUBSCRIPTIONS = Counter("vidplat_subscription_changes", "Subscriptions activated or expired", ["change"])


class EventMetrics(logging.Handler):
    """Counts each domain event record; records of other kinds pass by."""

    def emit(self, record: logging.LogRecord) -> None:
        fields = record.__dict__
        match fields.get("domain_event"):
            case "job_finished":
                labels = (str(fields["function"]), str(fields["outcome"]))
                JOBS.labels(*labels).inc()
                JOB_SECONDS.labels(*labels).observe(float(fields["seconds"]))
            case "upload_accepted":
                UPLOADS.inc()
            case "video_ready":
                PROCESSED.labels("ready").inc()
                PROCESSING_SECONDS.observe(float(fields["processing_seconds"]))
            case "video_failed":
                PROCESSED.labels("failed").inc()
            case "views_credited":
                CREDITS.inc(int(fields["count"]))
            case "subscription_changed":
                SUBSCRIPTIONS.labels(str(fields["change"])).inc()
            case _:
                pass


def count_events() -> None:
    """Start counting this process's domain events (once; later calls change nothing)."""
    EVENTS.setLevel(logging.DEBUG)  # recorded whatever the log level shows
    if not any(isinstance(handler, EventMetrics) for handler in EVENTS.handlers):
        EVENTS.addHandler(EventMetrics())


@contextmanager
def shared_between(processes: int) -> Iterator[None]:
    """Around starting `processes` server processes: with more than one, each writes its metrics to
    files in one fresh directory that a scrape adds up (an operator's own PROMETHEUS_MULTIPROC_DIR wins).

    It must be set before the processes import prometheus_client: uvicorn spawns fresh interpreters.
    """
    if processes < 2 or os.environ.get(MULTIPROCESS_DIR):  # noqa: PLR2004 - one process has one registry
        yield
        return
    with tempfile.TemporaryDirectory(prefix="vidplat-metrics-") as path:
        os.environ[MULTIPROCESS_DIR] = path
        try:
            yield
        finally:
            del os.environ[MULTIPROCESS_DIR]


def registry() -> CollectorRegistry:
    """What a scrape reads: every process's files in multiprocess mode, this process's metrics otherwise."""
    path = os.environ.get(MULTIPROCESS_DIR)
    if not path:
        return REGISTRY
    aggregated = CollectorRegistry()
    multiprocess.MultiProcessCollector(aggregated, path=path)  # type: ignore[no-untyped-call]
    return aggregated
