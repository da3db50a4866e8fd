"""What a bench run measures and for how long: the full profile and the quick one."""

from __future__ import annotations

import os
from dataclasses import dataclass

MEMBERS = 200
VIDEOS = 10
SERVE_WORKERS = 2  # one uvicorn worker per core on the 2-core reference machine
CREDIT_REPEATS = 3  # each first view requested this many times in S4
CREDIT_IN_FLIGHT = 64
MIB = 1024 * 1024
MB = 1_000_000

# Local services; the harness creates and drops its own database and Redis key prefix in them.
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Access logging of every request would otherwise dominate the small endpoints; the level is
# the same for /health (the ceiling) and the measured routes, so the ratios stay comparable.
SERVER_LOG_LEVEL = os.environ.get("BENCH_LOG_LEVEL", "WARNING")


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    name: str
    runs: int  # repetitions of each measurement; the table shows medians
    warmup_s: int
    stream_s: int  # S1, S2: seconds of downloading per run
    ranges_s: int  # S3
    api_s: int  # S5, S6
    big_video_mb: int  # the streamed video, also served by nginx
    upload_mib: int  # S7
    coldstart_runs: int  # S8
    transcode_source_s: int  # S14: seconds of the 1080p source transcoded while /health is probed


FULL = Profile(
    name="full",
    runs=3,
    warmup_s=2,
    stream_s=6,
    ranges_s=20,
    api_s=8,
    big_video_mb=200,
    upload_mib=1024,
    coldstart_runs=3,
    transcode_source_s=30,
)

QUICK = Profile(
    name="quick",
    runs=1,
    warmup_s=1,
    stream_s=2,
    ranges_s=4,
    api_s=2,
    big_video_mb=20,
    upload_mib=256,
    coldstart_runs=1,
    transcode_source_s=10,
)

PROFILES = {p.name: p for p in (FULL, QUICK)}
