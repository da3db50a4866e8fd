"""S12: a large upload through tus in 8 MiB PATCHes against the same bytes as one multipart upload, on
local files and on S3; and the issue's done-when: a tus upload cut mid-PATCH, the API restarted, resumed
to a ready video."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench import media
from bench.config import MB, MIB
from bench.context import Bench
from bench.rawhttp import Api
from bench.results import Row, median
from bench.s3stack import S3Stack, start_s3_stack
from bench.scenarios.upload import RssSampler, rss_growth_row
from bench.services import Throwaway
from bench.stack import wait_http
from bench.uploads import TUS_CHUNK, tus_create, tus_offset, tus_send, tus_upload, upload, wait_processed

TARGET = 0.8
S3_PROCESSES = ("worker-s3", "serve-s3", "weed")


async def s12(bench: Bench) -> list[Row]:
    path = media.padded_video(bench.profile.upload_mib)
    stack = bench.stack
    rows = await _compare(bench, "local files", stack.port, stack.serve_pid, bench.world.admin_token, path)
    state = Throwaway.new()
    try:
        s3 = await start_s3_stack(bench.processes, bench.run_dir / "s12", state, bench.small_video)
        rows += await _compare(bench, "S3", s3.port, s3.serve_pid, s3.token, path)
        rows.append(await _resume(bench, s3, path))
    finally:
        for name in S3_PROCESSES:
            bench.processes.stop_named(name)
        await state.drop()
    return rows


async def _compare(bench: Bench, where: str, port: int, serve_pid: int, token: str, path: Path) -> list[Row]:
    size = (await asyncio.to_thread(path.stat)).st_size
    tus_speeds, multipart_speeds, growths, outcomes = [], [], [], []
    for run in range(bench.profile.runs):
        started = time.perf_counter()
        multipart = await upload(port, token, path, f"multipart {run}")
        multipart_speeds.append(size / (time.perf_counter() - started) / MB)
        outcomes.append((await wait_processed(Api(port), token, multipart["id"]))["status"])
        sampler = RssSampler(serve_pid)
        sampling = asyncio.create_task(sampler.run())
        started = time.perf_counter()
        try:
            video_id = await tus_upload(port, token, path, f"tus {run}")
            tus_speeds.append(size / (time.perf_counter() - started) / MB)
        finally:
            sampling.cancel()
        sampler.sample()
        growths.append(sampler.growth_mb)
        outcomes.append((await wait_processed(Api(port), token, video_id))["status"])
    value, reference = median(tus_speeds), median(multipart_speeds)
    label = f"{size // MIB:,} MiB tus upload ({TUS_CHUNK // MIB} MiB PATCHes) to {where}"
    return [
        Row(
            scenario="S12",
            what=label,
            value=value,
            unit="MB/s",
            reference=f"one multipart POST {reference:,.0f} MB/s",
            ratio=value / reference,
            target=f">= {TARGET:.0%} of multipart",
            passed=value / reference >= TARGET,
            runs=tus_speeds,
            note=f"processing afterwards ended: {', '.join(outcomes)}",
        ),
        rss_growth_row("S12", label, growths, f"baselines (MB) per serve process: {sampler.baseline}"),
    ]


async def _resume(bench: Bench, s3: S3Stack, path: Path) -> Row:
    """The done-when: cut mid-PATCH, restart the API, HEAD, resume; the video must end ready."""
    size = (await asyncio.to_thread(path.stat)).st_size
    started = time.perf_counter()
    upload_path = await tus_create(s3.port, s3.token, size, "resumed after a restart")
    cut_at = (size // 2 // TUS_CHUNK) * TUS_CHUNK + 3 * MIB  # inside a PATCH, past its first MiBs
    await tus_send(s3.port, s3.token, upload_path, path, 0, stop_at=cut_at)
    bench.processes.stop_named("serve-s3")
    bench.processes.start("serve-s3", s3.serve_argv, env=s3.env, cwd=bench.run_dir / "s12")
    await wait_http(s3.port, "/ready", processes=bench.processes, within=60)
    offset = await tus_offset(s3.port, s3.token, upload_path)
    video_id = await tus_send(s3.port, s3.token, upload_path, path, offset)
    if video_id is None:
        raise RuntimeError("the resumed upload ended without a video")
    video = await wait_processed(Api(s3.port), s3.token, video_id)
    seconds = time.perf_counter() - started
    ready = video["status"] == "ready" and video["size_bytes"] == size and cut_at - TUS_CHUNK <= offset <= cut_at
    return Row(
        scenario="S12",
        what=f"{size // MIB:,} MiB tus upload to S3: cut mid-PATCH at {cut_at / MIB:.0f} MiB, API restarted, resumed",
        value=seconds,
        unit="s",
        target="ready, every byte",
        passed=ready,
        note=f"HEAD after the restart: {offset / MIB:.1f} MiB acknowledged; video {video['status']}, "
        f"{video['size_bytes']:,} of {size:,} bytes",
    )
