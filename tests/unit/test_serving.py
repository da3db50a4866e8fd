"""`vidplat serve --workers N`: the supervisor says why it replaces a worker, where uvicorn said only "died"."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field

from vidplat.entrypoints.serving import WORKER_HEALTHCHECK_SECONDS, replacement_reason


@dataclass
class StubWorker:
    exitcode: int | None = None
    answers: bool = True
    pings: list[float] = field(default_factory=list)

    def ping(self, timeout: float = 5) -> bool:
        self.pings.append(timeout)
        return self.answers


def test_a_healthy_worker_is_kept() -> None:
    worker = StubWorker()

    assert replacement_reason(worker, alive=True, timeout=60) is None
    assert worker.pings == [60]


def test_a_worker_that_does_not_answer_in_time_is_replaced_saying_so() -> None:
    reason = replacement_reason(StubWorker(answers=False), alive=True, timeout=60)

    assert reason == "did not answer the health check within 60 s"


def test_a_killed_worker_is_reported_with_its_signal() -> None:
    assert replacement_reason(StubWorker(exitcode=-signal.SIGKILL), alive=False, timeout=60) == (
        "was killed by SIGKILL (out of memory?)"
    )
    assert replacement_reason(StubWorker(exitcode=-signal.SIGSEGV), alive=False, timeout=60) == "was killed by SIGSEGV"


def test_a_worker_that_exited_is_reported_with_its_status() -> None:
    reason = replacement_reason(StubWorker(exitcode=3), alive=False, timeout=60)

    assert reason == "exited with status 3 (see its log above)"


def test_workers_get_far_longer_than_uvicorns_five_seconds_to_answer() -> None:
    """Importing the app on a busy two-core machine took longer than 5 s: uvicorn restarted workers 7 times."""
    assert WORKER_HEALTHCHECK_SECONDS >= 30
