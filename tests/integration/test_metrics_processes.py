"""Metrics across processes: `serve --workers N` adds every process up; the worker serves its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.hardening.servers import free_port
from vidplat.adapters.metrics import MULTIPROCESS_DIR, count_events, registry, shared_between
from vidplat.domain import events
from vidplat.entrypoints.worker import serve_metrics

# One server process: some uploads accepted and some requests answered, then it exits.
_PROCESS = """
import sys
from vidplat.adapters.metrics import count_events
from vidplat.domain import events
from vidplat.entrypoints.http.metrics import REQUESTS

count_events()
for _ in range(int(sys.argv[1])):
    events.record("upload_accepted", "upload accepted", video_id="v")
    REQUESTS.labels("POST", "/api/v1/videos", "202").inc()
"""


def _samples(text: str) -> dict[str, float]:
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if not sample.labels or sample.labels.get("path") == "/api/v1/videos"
    }


def test_a_scrape_adds_up_the_metrics_of_every_server_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, MULTIPROCESS_DIR: str(tmp_path)}
    for uploads in (2, 3):
        subprocess.run([sys.executable, "-c", _PROCESS, str(uploads)], env=env, check=True, timeout=60)  # noqa: S603
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))

    samples = _samples(generate_latest(registry()).decode())

    assert samples["vidplat_uploads_total"] == 5
    assert samples["vidplat_http_requests_total"] == 5


def test_several_server_processes_share_one_fresh_metrics_directory_and_one_needs_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with shared_between(1):
        assert MULTIPROCESS_DIR not in os.environ
    with shared_between(2):
        shared = Path(os.environ[MULTIPROCESS_DIR])
        assert shared.is_dir()
        assert not list(shared.iterdir())
    assert MULTIPROCESS_DIR not in os.environ
    assert not shared.exists()
    monkeypatch.setenv(MULTIPROCESS_DIR, "/operators/own")
    with shared_between(4):
        assert os.environ[MULTIPROCESS_DIR] == "/operators/own"


def test_the_worker_serves_its_job_metrics_on_its_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    count_events()
    events.record("job_finished", "job finished", function="expire_subscriptions", outcome="complete", seconds=0.2)
    server = serve_metrics(free_port())
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    families = {family.name: family for family in text_string_to_metric_families(response.text)}
    runs = [s for s in families["vidplat_jobs"].samples if s.labels.get("function") == "expire_subscriptions"]
    assert runs
    assert runs[0].value >= 1
