"""One bench run: media, services, seed, the scenarios in turn, then the table."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import media
from bench.config import MEMBERS, SERVE_WORKERS, Profile
from bench.context import Bench
from bench.growth.scenario import s13
from bench.nginx import nginx_binary, start_nginx
from bench.procs import Processes, compile_bytecode
from bench.results import RESULTS_DIR, Row, failed_row, render, write_json
from bench.scenarios.api import s5, s6
from bench.scenarios.coldstart import s8
from bench.scenarios.credits import s4
from bench.scenarios.hls import s11, s14
from bench.scenarios.objectstore import s9
from bench.scenarios.streaming import s1, s2, s3
from bench.scenarios.transcode import s10
from bench.scenarios.tus import s12
from bench.scenarios.upload import s7
from bench.seed import seed
from bench.services import Throwaway
from bench.stack import start_offloading_api, start_stack, wait_http
from bench.wrk import wrk_binary

# A 1-minute load average above this before the run means another job shares the 2 cores.
BUSY_LOAD = 0.5

Scenario = Callable[[Bench], Awaitable[list[Row]]]

# Execution order, not table order: the member list (S5) is measured on the seeded catalog,
# before S4's later rounds add videos; S8 runs last, with the production stack idle.
PLAN: list[tuple[str, str, Scenario]] = [
    ("S1", "one client downloads the big video", s1),
    ("S2", "16 clients download it at once", s2),
    ("S3", "32 clients, random 1 MiB ranges", s3),
    ("S5", "authenticated list vs /health", s5),
    ("S6", "logins while /health is probed", s6),
    ("S4", "credit burst", s4),
    ("S7", "large upload", s7),
    ("S11", "32 clients, random HLS segments, vs nginx", s11),
    ("S9", "S3 storage: downloads, redirects, a large upload", s9),
    ("S12", "tus upload in 8 MiB PATCHes vs one multipart POST, local and S3; cut, restart, resume", s12),
    ("S8", "cold start, embedded", s8),
]
# Scenarios that seed and serve their own data: they need none of the above, and run after it.
STANDALONE: list[tuple[str, str, Callable[[Profile, Callable[[str], None]], Awaitable[list[Row]]]]] = [
    ("S13", "growth: small and large data, read cache off and on; expiry", s13),
    ("S10", "transcode 30 s of 1080p to the ladder, vs the ffmpeg CLI", s10),
    ("S14", "/health while the embedded server transcodes 1080p", s14),
]
SCENARIOS = {name for name, _, _ in PLAN} | {name for name, _, _ in STANDALONE}


class Clock:
    def __init__(self) -> None:
        self.started = time.perf_counter()

    def say(self, message: str) -> None:
        print(f"[{time.perf_counter() - self.started:6.1f}s] {message}", flush=True)


async def run(
    profile: Profile, processes: Processes, state: Throwaway, run_dir: Path, stamp: str, only: set[str]
) -> list[Row]:
    clock = Clock()
    load_before = os.getloadavg()[0]
    if load_before > BUSY_LOAD:
        clock.say(f"warning: load average {load_before:.1f} before starting: something else is running, expect noise")
    stacked = only & {name for name, _, _ in PLAN}
    bench = await _prepare(clock, profile, processes, state, run_dir) if stacked else None
    rows: list[Row] = []
    for name, title, scenario in PLAN:
        if name not in only or bench is None:
            continue
        clock.say(f"{name}: {title}")
        try:
            rows += await scenario(bench)
        except Exception as exc:  # one broken scenario must not hide the others' figures
            rows.append(failed_row(name, title, exc))
            processes.check_alive()  # but a dead server ends the run
    for name, title, standalone in STANDALONE:
        if name not in only:
            continue
        clock.say(f"{name}: {title}")
        try:
            rows += await standalone(profile, clock.say)
        except Exception as exc:
            rows.append(failed_row(name, title, exc))
    rows.sort(key=lambda r: r.scenario)  # stable: rows of one scenario keep their order
    elapsed = time.perf_counter() - clock.started
    print()
    print(render(rows))
    print(
        f"profile {profile.name}: medians of {profile.runs} run(s); "
        f"load average before the run {load_before:.1f} (above {BUSY_LOAD}: another job shared the cores)"
    )
    out = RESULTS_DIR / f"{stamp}.json"
    meta = _meta(bench, elapsed) if bench is not None else {"profile": profile.name, "elapsed_s": round(elapsed, 1)}
    meta["load_average"] = {"before": load_before, "after_including_the_bench": os.getloadavg()[0]}
    write_json(out, meta, rows)
    clock.say(f"bench {profile.name} took {elapsed:.0f} s; results in {out}")
    return rows


async def _prepare(clock: Clock, profile: Profile, processes: Processes, state: Throwaway, run_dir: Path) -> Bench:
    """Media (cached), the database, vidplat and its worker, the seeded world, then nginx on the same file."""
    # Missing tools fail here, before anything is started.
    nginx_binary()
    wrk_binary()
    compile_bytecode()
    big = media.noise_video(profile.big_video_mb)
    small = media.small_video()
    upload_file = media.sparse_upload(profile.upload_mib)
    await state.create()
    clock.say(f"database {state.database} created; starting vidplat ({SERVE_WORKERS} workers) and its worker")
    stack = await start_stack(processes, run_dir, state)
    clock.say(f"vidplat ready on :{stack.port}; seeding 1 organization, {MEMBERS} members, the catalog")
    world = await seed(stack.port, state.dsn, stack.settings, big, small)
    offloading = await start_offloading_api(processes, run_dir, stack)
    nginx_port, offload_port = start_nginx(processes, run_dir, stack.media_dir, offloading)
    await wait_http(nginx_port, f"/{world.big_key}", processes=processes, method="HEAD")
    clock.say(
        f"seeded; nginx on :{nginx_port} serving the same {world.big_size / 1e6:.0f} MB file, "
        f"and on :{offload_port} in front of a vidplat that offloads stream bytes to it"
    )
    return Bench(
        profile=profile,
        processes=processes,
        state=state,
        stack=stack,
        nginx_port=nginx_port,
        offload_port=offload_port,
        world=world,
        run_dir=run_dir,
        small_video=small,
        big_video=big,
        upload_file=upload_file,
    )


def _meta(bench: Bench, elapsed: float) -> dict[str, Any]:
    settings = bench.stack.settings
    return {
        "profile": bench.profile.name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 1),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(_git("status", "--porcelain")),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()},
        "server": {
            "workers": SERVE_WORKERS,
            "db_pool_size": settings.db_pool_size,
            "log_level": settings.log_level,
            "argon2": {
                "time_cost": settings.auth.argon2_time_cost,
                "memory_kib": settings.auth.argon2_memory_kib,
                "parallelism": settings.auth.argon2_parallelism,
            },
        },
        "big_video_bytes": bench.world.big_size,
        "upload_bytes": bench.upload_file.stat().st_size,
        "profile_settings": asdict(bench.profile),
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False, cwd=Path(__file__).parent)
    return done.stdout.strip()
