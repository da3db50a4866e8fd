"""S11: random HLS segments of a ready video against nginx serving the same files; S14: /health while a
transcode runs in the embedded server (S6's question for the heaviest job there is)."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from bench import media
from bench.config import SERVER_LOG_LEVEL, Profile
from bench.context import Bench
from bench.procs import Processes, free_port, venv_script
from bench.rawhttp import Api, Connection, HttpError
from bench.results import Row, median
from bench.scenarios.api import HEALTH_P99_MS
from bench.scenarios.pairs import alternate, errors_note, repeated
from bench.seed import sign_up
from bench.services import fetch
from bench.stack import clean_env, wait_http
from bench.uploads import upload, upload_ready, wait_processed
from bench.wrk import Load, WrkResult, run_wrk, run_wrk_until
from vidplat.domain.videos.keys import hls_prefix

HALF = 0.5
CLIENTS = 32
OK = 200
TRANSCODE_WITHIN_S = 1800  # the longest S14 waits for a transcode on a loaded 2-core machine


async def s11(bench: Bench) -> list[Row]:
    """32 clients fetch random segments of every rendition: bearer, token in the URL, and nginx."""
    video = await upload_ready(bench.stack.port, bench.world.admin_token, media.vp9_clip(), "hls source")
    if not video["renditions"]:
        raise RuntimeError("the video became ready without renditions")
    [row] = await fetch(bench.state.dsn, "SELECT storage_key FROM videos WHERE id = $1", UUID(video["id"]))
    prefix = hls_prefix(row["storage_key"])
    root = bench.stack.media_dir / prefix
    segments = sorted(str(path.relative_to(root)) for path in root.glob("*/seg_*.m4s"))
    if not segments:
        raise RuntimeError(f"no segments under {root}")
    viewer = bench.world.members[0].token
    query = "?" + (await variant_segments(bench.stack.port, video["id"], viewer))[0].split("?", 1)[1]
    ours = [f"/api/v1/videos/{video['id']}/hls/{segment}" for segment in segments]
    bearer = Load(bench.base + "/", "segments.lua", (viewer, "", *ours), CLIENTS, 2)
    token = Load(bench.base + "/", "segments.lua", ("", query, *ours), CLIENTS, 2)
    files = [f"/{prefix}{segment}" for segment in segments]
    nginx = Load(f"http://127.0.0.1:{bench.nginx_port}/", "segments.lua", ("", "", *files), CLIENTS, 2)
    mine, theirs = await alternate(bench, bearer, nginx, bench.profile.api_s)
    tokened = await repeated(bench, token, bench.profile.api_s)
    # The framework's ceiling at the same concurrency, beside nginx's: what any route of this server could reach.
    health = await repeated(bench, Load(bench.base + "/health", "get.lua", ("",), CLIENTS, 2), bench.profile.api_s)
    size = sum((root / segment).stat().st_size for segment in segments) / len(segments)
    note = (
        f"{len(segments)} segments of {len(video['renditions'])} renditions, {size / 1000:.0f} kB on average; "
        f"/health at -c{CLIENTS} {median([r.rps for r in health]):,.0f} req/s"
    )
    return [
        *_segment_rows("bearer", mine, theirs, note),
        *_segment_rows("token in the URL", tokened, theirs, errors_note("token", tokened)),
    ]


async def variant_segments(port: int, video_id: str, token: str) -> list[str]:
    """A variant's segment paths as a player finds them: playback, the master, its first variant playlist.

    Each keeps the query the playlist put on it (the token a player carries on to its segments).
    """
    grant = await Api(port).call("POST", f"/api/v1/videos/{video_id}/playback", token=token)
    conn = Connection("127.0.0.1", port)
    try:
        url, uris = grant["hls_url"], []
        for _ in ("master", "variant"):
            answer = await conn.request("GET", url)
            if answer.status != OK:
                raise HttpError(f"GET {url.split('?')[0]}: {answer.status} {answer.body[:300]!r}")
            directory = url.split("?")[0].rsplit("/", 1)[0] + "/"
            uris = [directory + line for line in answer.body.decode().splitlines() if line and not line.startswith("#")]
            url = uris[0]
    finally:
        await conn.close()
    if "?" not in uris[0]:
        raise RuntimeError(f"the variant playlist names its segments without a token: {uris[0]}")
    return uris


def _segment_rows(how: str, mine: list[WrkResult], nginx: list[WrkResult], note: str) -> list[Row]:
    """req/s against nginx's on the same files (the target), and p99 beside nginx's (reported)."""
    rps, nginx_rps = median([r.rps for r in mine]), median([r.rps for r in nginx])
    clean = not any(r.errors for r in mine)
    return [
        Row(
            scenario="S11",
            what=f"{CLIENTS} clients random segments, {how}",
            value=rps,
            unit="req/s",
            reference=f"nginx {nginx_rps:,.0f} req/s",
            ratio=rps / nginx_rps,
            target=f">= {HALF:.0%} of nginx",
            passed=rps / nginx_rps >= HALF and clean,
            runs=[r.rps for r in mine],
            note=errors_note(how, mine) or note,
        ),
        Row(
            scenario="S11",
            what=f"{CLIENTS} clients random segments, {how}, p99",
            value=median([r.p99_ms for r in mine]),
            unit="ms",
            reference=f"nginx {median([r.p99_ms for r in nginx]):.1f} ms",
            runs=[r.p99_ms for r in mine],
        ),
    ]


async def s14(profile: Profile, say: Callable[[str], None]) -> list[Row]:
    """A 1080p upload to the embedded server, /health probed (paced, as in S6) until the video is ready."""
    source = media.hd_clip(profile.transcode_source_s)
    with tempfile.TemporaryDirectory(prefix="vidplat-s14-") as scratch:
        run_dir = Path(scratch)
        (run_dir / "logs").mkdir()
        processes = Processes(run_dir / "logs")
        try:
            return await _transcode_while_probed(processes, run_dir, source, profile, say)
        finally:
            processes.stop_all()


async def _transcode_while_probed(
    processes: Processes, run_dir: Path, source: Path, profile: Profile, say: Callable[[str], None]
) -> list[Row]:
    port = free_port()
    # No DATABASE/REDIS settings: the embedded wiring, jobs in the serving process.
    env = clean_env(data_dir=str(run_dir / "data"), log_level=SERVER_LOG_LEVEL)
    processes.start("embedded", [venv_script("vidplat"), "serve", "--port", str(port)], env=env, cwd=run_dir)
    await wait_http(port, "/health", processes=processes, within=60)
    _, token = await sign_up(Api(port), "Bench S14", secrets.token_urlsafe(12))
    probe = Load(f"http://127.0.0.1:{port}/health", "probe.lua", (), 4, 1)
    idle = await run_wrk(probe, profile.api_s)  # also the warm-up; its p99 is the reference
    video = await upload(port, token, source, "1080p source")
    started = time.perf_counter()
    processed = asyncio.create_task(wait_processed(Api(port), token, video["id"], within=TRANSCODE_WITHIN_S))
    probed = await run_wrk_until(probe, processed, longest_s=TRANSCODE_WITHIN_S + 60)
    took = time.perf_counter() - started
    done: dict[str, Any] = processed.result()
    if done["status"] != "ready" or not done["renditions"]:
        raise RuntimeError(f"the upload ended {done['status']} with {len(done['renditions'])} renditions")
    say(f"S14: {profile.transcode_source_s} s of 1080p ready in {took:.0f} s, {probed.requests} probes")
    return [
        Row(
            scenario="S14",
            what="/health p99 during a 1080p transcode (embedded, paced probe)",
            value=probed.p99_ms,
            unit="ms",
            reference=f"idle {idle.p99_ms:.1f} ms",
            target=f"< {HEALTH_P99_MS} ms",
            passed=probed.p99_ms < HEALTH_P99_MS and not probed.errors,
            runs=[probed.p99_ms],
            note=errors_note("probe", [probed])
            or f"{profile.transcode_source_s} s source to {len(done['renditions'])} renditions in {took:.0f} s "
            f"(upload to ready), {probed.requests} probes, p50 {probed.p50_ms:.1f} ms",
        )
    ]
