"""S8: `vidplat serve` in the embedded mode, from exec to the first 200 on /health, on a fresh data dir."""

from __future__ import annotations

import time

from bench.config import SERVER_LOG_LEVEL
from bench.context import Bench
from bench.procs import free_port, venv_script
from bench.results import Row, median
from bench.stack import clean_env, wait_http

MAX_SECONDS = 3.0


async def s8(bench: Bench) -> list[Row]:
    times = []
    for run in range(bench.profile.coldstart_runs):
        data = bench.run_dir / f"embedded-{run}"
        data.mkdir()
        # No DATABASE/REDIS settings: the embedded wiring, which also creates and migrates SQLite.
        env = clean_env(data_dir=str(data), log_level=SERVER_LOG_LEVEL)
        port = free_port()
        started = time.perf_counter()
        proc = bench.processes.start(
            f"embedded-{run}", [venv_script("vidplat"), "serve", "--port", str(port)], env=env, cwd=data
        )
        try:
            await wait_http(port, "/health", processes=bench.processes, within=30, step=0.005)
            times.append(time.perf_counter() - started)
        finally:
            bench.processes.stop(proc)
    value = median(times)
    return [
        Row(
            scenario="S8",
            what="cold start (embedded) to /health 200",
            value=value,
            unit="s",
            target=f"< {MAX_SECONDS:.0f} s",
            passed=value < MAX_SECONDS,
            runs=times,
        )
    ]
