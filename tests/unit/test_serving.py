"""`vidplat serve --workers N`: the supervisor says why it replaces a worker, where uvicorn said only "died"."""

from __future__ import annotations

import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vidplat.entrypoints.serving import WORKER_HEALTHCHECK_SECONDS, compile_app_imports, replacement_reason


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


def test_what_the_app_imports_is_compiled_to_bytecode_before_workers_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers then load bytecode instead of each compiling the same modules at once (here: a small module)."""
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(tmp_path))  # an empty cache, seen by the child

    compile_app_imports("vidplat.domain.videos.model")

    compiled = {str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*.pyc")}
    model = f"vidplat/domain/videos/model.{sys.implementation.cache_tag}.pyc"
    assert any(path.endswith(model) for path in compiled), compiled
    assert any("vidplat/domain/errors" in path for path in compiled)  # what it imports, too


def test_the_compile_step_targets_the_served_app() -> None:
    assert compile_app_imports.__defaults__ == ("vidplat.entrypoints.asgi",)
