"""`uv run python -m bench [quick]`: start everything, measure, print the table, stop everything."""

from __future__ import annotations

import asyncio
import shutil
import signal
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import uvloop

from bench.config import PROFILES
from bench.procs import Processes
from bench.results import RESULTS_DIR
from bench.runner import SCENARIOS, run
from bench.services import Throwaway

USAGE = "usage: python -m bench [full|quick] [S1 ... S14]"


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM takes the same way out as Ctrl-C, through every finally below.
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    name = argv[0] if argv else "full"
    only = set(argv[1:])  # a subset of scenarios, for working on one; the table then shows only those
    if name not in PROFILES or not only <= SCENARIOS:
        print(USAGE, file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    logs = RESULTS_DIR / f"{stamp}-logs"  # the servers' own output, kept for diagnosis
    logs.mkdir(parents=True)
    run_dir = Path(tempfile.mkdtemp(prefix="vidplat-bench-"))
    processes = Processes(logs)
    state = Throwaway.new()
    signal.signal(signal.SIGTERM, _terminate)
    # A shell starts background jobs with SIGINT ignored; `kill -INT` must still stop the bench cleanly.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # uvloop: the harness's own client must cost the 2 cores as little as possible.
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            rows = runner.run(run(PROFILES[name], processes, state, run_dir, stamp, only or SCENARIOS))
    except KeyboardInterrupt:
        print("\ninterrupted: stopping everything the bench started", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
        asyncio.run(state.drop())
        shutil.rmtree(run_dir, ignore_errors=True)
    return 0 if all(row.passed is not False for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
