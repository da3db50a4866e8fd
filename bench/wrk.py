"""Running wrk with a scenario's Lua script and reading its JSON summary."""

from __future__ import annotations

import asyncio
import json
import shutil
import signal
import tempfile
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

LUA_DIR = Path(__file__).with_name("lua")
_MARK = "BENCH_JSON "


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests: int
    bytes: int
    seconds: float
    errors: int  # connect/read/write errors, timeouts and non-2xx/3xx answers
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6


@dataclass(frozen=True, slots=True)
class Load:
    """One wrk invocation: the URL, the script and its arguments, and the shape of the load."""

    url: str
    script: str  # a file name under bench/lua
    args: tuple[str, ...] = ()
    connections: int = 1
    threads: int = 1
    timeout_s: int = 30  # generous, so that slow answers show up as latency rather than vanish as timeouts


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    return found


async def run_wrk(load: Load, seconds: int) -> WrkResult:
    proc, script = await _start(load, seconds)
    with script:
        out, _ = await proc.communicate()
    return _result(proc, out)


async def run_wrk_until(load: Load, done: Awaitable[object], *, longest_s: int) -> WrkResult:
    """wrk for as long as `done` takes (at most `longest_s`): it stops on SIGINT and still reports."""
    proc, script = await _start(load, longest_s)
    with script:
        try:
            await done
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGINT)
            out, _ = await proc.communicate()
    return _result(proc, out)


async def _start(load: Load, seconds: int) -> tuple[asyncio.subprocess.Process, IO[str]]:
    """wrk running the load; the temporary script file must stay until it exits."""
    wrk = wrk_binary()
    # wrk takes one script: the scenario's, followed by the shared done() reporter.
    script_text = (LUA_DIR / load.script).read_text() + "\n" + (LUA_DIR / "report.lua").read_text()
    script = tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="bench-")  # noqa: SIM115 - closed by the caller
    script.write(script_text)
    script.flush()
    argv = [
        wrk,
        f"-t{min(load.threads, load.connections)}",
        f"-c{load.connections}",
        f"-d{seconds}s",
        f"--timeout={load.timeout_s}s",
        "-s",
        script.name,
        load.url,
        "--",
        *load.args,
    ]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    return proc, script


def _result(proc: asyncio.subprocess.Process, out: bytes) -> WrkResult:
    text = out.decode(errors="replace")
    line = next((ln for ln in text.splitlines() if ln.startswith(_MARK)), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {text[-2000:]}")
    raw = json.loads(line.removeprefix(_MARK))
    errors = sum(raw[k] for k in ("connect", "read", "write", "status", "timeout"))
    return WrkResult(
        requests=raw["requests"],
        bytes=raw["bytes"],
        seconds=raw["duration_us"] / 1e6,
        errors=errors,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
    )
