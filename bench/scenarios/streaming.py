"""S1-S3: the big video through /stream against nginx serving the same file with sendfile."""

from __future__ import annotations

from bench.context import Bench
from bench.results import Row, median
from bench.scenarios.pairs import alternate, download_row, errors_note, repeated
from bench.wrk import Load, WrkResult

HALF = 0.5
RANGE_P99_MS = 50


async def whole_file(bench: Bench, scenario: str, clients: int) -> list[Row]:
    """S1 (one client) and S2 (16 at once): MB/s of whole-file downloads, repeated for the duration."""
    threads = min(clients, 2)
    ours = Load(bench.base + bench.stream_path, "get.lua", (bench.world.admin_token,), clients, threads)
    nginx = Load(bench.nginx_url, "get.lua", ("",), clients, threads)
    mine, theirs = await alternate(bench, ours, nginx, bench.profile.stream_s)
    return [download_row(scenario, clients, mine, theirs, against="nginx", at_least=HALF)]


async def s1(bench: Bench) -> list[Row]:
    return await whole_file(bench, "S1", 1)


async def s2(bench: Bench) -> list[Row]:
    return await whole_file(bench, "S2", 16)


async def s3(bench: Bench) -> list[Row]:
    """32 clients, random 1 MiB ranges: latency is the target, throughput is reported against nginx.

    Measured twice: vidplat sending the bytes itself, and vidplat behind nginx in the offload
    mode (deploy/nginx.conf), where it authorises and credits and nginx sends the bytes.
    """
    size = str(bench.world.big_size)
    ours = Load(bench.base + bench.stream_path, "ranges.lua", (bench.world.admin_token, size), 32, 2)
    nginx = Load(bench.nginx_url, "ranges.lua", ("", size), 32, 2)
    offload = Load(bench.offload_base + bench.stream_path, "ranges.lua", (bench.world.admin_token, size), 32, 2)
    mine, theirs = await alternate(bench, ours, nginx, bench.profile.ranges_s)
    offloaded = await repeated(bench, offload, bench.profile.ranges_s)
    return [
        *_range_rows("32 clients 1 MiB ranges", "ranges", mine, theirs),
        *_range_rows("same, offloaded to nginx", "offloaded ranges", offloaded, theirs),
    ]


def _range_rows(what: str, label: str, mine: list[WrkResult], nginx: list[WrkResult]) -> list[Row]:
    """S3's two rows for one way of serving: p99 against the target, req/s against nginx."""
    p99, nginx_p99 = median([r.p99_ms for r in mine]), median([r.p99_ms for r in nginx])
    rps, nginx_rps = median([r.rps for r in mine]), median([r.rps for r in nginx])
    return [
        Row(
            scenario="S3",
            what=f"{what} p99",
            value=p99,
            unit="ms",
            reference=f"nginx {nginx_p99:.1f} ms",
            target=f"< {RANGE_P99_MS} ms",
            passed=p99 < RANGE_P99_MS and not any(r.errors for r in mine),
            runs=[r.p99_ms for r in mine],
            note=errors_note(label, mine),
        ),
        Row(
            scenario="S3",
            what=what,
            value=rps,
            unit="req/s",
            reference=f"nginx {nginx_rps:,.0f} req/s",
            ratio=rps / nginx_rps,
            runs=[r.rps for r in mine],
        ),
    ]
