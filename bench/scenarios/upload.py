"""S7: a large upload must stream to disk: the API processes' memory stays flat while the bytes go by."""

from __future__ import annotations

import asyncio
import time

from bench.config import MB, MIB
from bench.context import Bench
from bench.procs import descendants, rss_kib
from bench.rawhttp import Api
from bench.results import Row, median
from bench.uploads import upload, wait_processed

MAX_GROWTH_MB = 100


def rss_growth_row(scenario: str, label: str, growths: list[float], note: str = "") -> Row:
    """The API's worst RSS growth over an upload's runs, against MAX_GROWTH_MB."""
    worst = max(growths)
    return Row(
        scenario=scenario,
        what=f"{label} API RSS growth (max)",
        value=worst,
        unit="MB",
        target=f"< {MAX_GROWTH_MB} MB",
        passed=worst < MAX_GROWTH_MB,
        runs=growths,
        note=note,
    )


SAMPLE_SECONDS = 0.02


class RssSampler:
    """Peak VmRSS of every process of `vidplat serve` (supervisor and workers) against a baseline."""

    def __init__(self, root_pid: int) -> None:
        self._pids = descendants(root_pid)
        self._baseline = {pid: rss_kib(pid) or 0 for pid in self._pids}
        self._peak = dict(self._baseline)

    def sample(self) -> None:
        for pid in self._pids:
            self._peak[pid] = max(self._peak[pid], rss_kib(pid) or 0)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_SECONDS)

    @property
    def baseline(self) -> str:
        return ", ".join(f"{self._baseline[p] * 1024 / MB:.0f}" for p in self._pids)

    @property
    def growth_mb(self) -> float:
        """The largest growth of any one process (the worker that took the upload), in MB."""
        return max(self._peak[p] - self._baseline[p] for p in self._pids) * 1024 / MB


async def s7(bench: Bench) -> list[Row]:
    growths, speeds, outcomes, baselines = [], [], [], []
    size = bench.upload_file.stat().st_size
    for run in range(bench.profile.runs):
        sampler = RssSampler(bench.stack.serve_pid)
        sampling = asyncio.create_task(sampler.run())
        started = time.perf_counter()
        try:
            video = await upload(bench.stack.port, bench.world.admin_token, bench.upload_file, f"large {run}")
            seconds = time.perf_counter() - started
        finally:
            sampling.cancel()
        sampler.sample()
        baselines.append(sampler.baseline)
        growths.append(sampler.growth_mb)
        speeds.append(size / seconds / MB)
        # Let the worker finish with the file so its hashing does not weigh on the next measurement.
        done = await wait_processed(Api(bench.stack.port), bench.world.admin_token, video["id"])
        outcomes.append(done["status"])
    label = f"{size // MIB:,} MiB upload"
    return [
        rss_growth_row(
            "S7",
            label,
            growths,
            f"RSS sampled every {SAMPLE_SECONDS * 1000:.0f} ms; baselines (MB) per serve process: {baselines[0]}",
        ),
        Row(
            scenario="S7",
            what=label,
            value=median(speeds),
            unit="MB/s",
            runs=speeds,
            note=f"processing afterwards ended: {', '.join(outcomes)} (the file is a header and a hole)",
        ),
    ]
