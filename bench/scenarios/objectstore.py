"""S9 and S7 on S3 storage: /stream in proxy delivery against a direct GET of the same object from the
S3 server (SeaweedFS), the cost of a redirect (of /stream and of HLS segments), and a large upload
against a direct PUT of the same bytes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bench.config import MB, MIB
from bench.context import Bench
from bench.rawhttp import Api, Connection, HttpError
from bench.results import Row, median
from bench.s3stack import S3Stack, start_s3_stack
from bench.scenarios.hls import variant_segments
from bench.scenarios.pairs import alternate, download_row, errors_note, repeated
from bench.scenarios.upload import RssSampler, rss_growth_row
from bench.services import Throwaway
from bench.uploads import upload, wait_processed
from bench.wrk import Load

TARGET = 0.7
REDIRECT_CLIENTS = 16
TEMPORARY_REDIRECT = 307


async def s9(bench: Bench) -> list[Row]:
    state = Throwaway.new()
    try:
        stack = await start_s3_stack(bench.processes, bench.run_dir, state, bench.big_video)
        rows = [await _download(bench, stack, 1), await _download(bench, stack, 16)]
        stream = Load(f"http://127.0.0.1:{stack.redirect_port}{stack.stream_path}", "get.lua", (stack.token,))
        rows += [
            await _redirect(bench, "/stream", stream),
            await _redirect(bench, "HLS segments", await _segments(stack)),
        ]
        rows += await _upload(bench, stack)
        return rows
    finally:
        for name in ("serve-s3-redirect", "worker-s3", "serve-s3", "weed"):
            bench.processes.stop_named(name)
        await state.drop()


async def _download(bench: Bench, stack: S3Stack, clients: int) -> Row:
    threads = min(clients, 2)
    direct = await stack.storage.presign_get(stack.big_key, timedelta(hours=1))
    if direct is None:
        raise RuntimeError("the S3 store made no presigned URL")
    ours = Load(f"http://127.0.0.1:{stack.port}{stack.stream_path}", "get.lua", (stack.token,), clients, threads)
    store = Load(direct, "get.lua", ("",), clients, threads)
    mine, theirs = await alternate(bench, ours, store, bench.profile.stream_s)
    return download_row("S9", clients, mine, theirs, against="direct S3 GET", at_least=TARGET, via=", S3 proxy")


async def _segments(stack: S3Stack) -> Load:
    """Random segments of the video's first rendition from the redirect server, each checked to answer 307 once."""
    paths = await variant_segments(stack.redirect_port, stack.video_id, stack.token)
    conn = Connection("127.0.0.1", stack.redirect_port)
    try:
        answer = await conn.request("GET", paths[0])
    finally:
        await conn.close()
    if answer.status != TEMPORARY_REDIRECT:
        raise HttpError(f"a segment in redirect delivery answered {answer.status}, not 307")
    # The paths carry their token: no bearer header, as a player sends them.
    return Load(f"http://127.0.0.1:{stack.redirect_port}/", "segments.lua", ("", "", *paths))


async def _redirect(bench: Bench, what: str, load: Load) -> Row:
    """What a 307 costs: authorisation, the (cached) credit check and signing, per request."""
    load = replace(load, connections=REDIRECT_CLIENTS, threads=2)
    results = await repeated(bench, load, bench.profile.api_s)
    p50, rps = median([r.p50_ms for r in results]), median([r.rps for r in results])
    return Row(
        scenario="S9",
        what=f"redirect delivery, {what} 307 p99 at {REDIRECT_CLIENTS} clients",
        value=median([r.p99_ms for r in results]),
        unit="ms",
        reference=f"p50 {p50:.1f} ms, {rps:,.0f} req/s",
        runs=[r.p99_ms for r in results],
        note=errors_note(f"{what} redirects", results),
    )


async def _upload(bench: Bench, stack: S3Stack) -> list[Row]:
    size = bench.upload_file.stat().st_size
    growths, speeds, direct_speeds, outcomes = [], [], [], []
    for run in range(bench.profile.runs):
        started = time.perf_counter()
        await stack.storage.write(f"direct/{run}", _file_chunks(bench.upload_file), max_bytes=size)
        direct_speeds.append(size / (time.perf_counter() - started) / MB)
        await stack.storage.delete(f"direct/{run}")
        sampler = RssSampler(stack.serve_pid)
        sampling = asyncio.create_task(sampler.run())
        started = time.perf_counter()
        try:
            video = await upload(stack.port, stack.token, bench.upload_file, f"large on S3 {run}")
            speeds.append(size / (time.perf_counter() - started) / MB)
        finally:
            sampling.cancel()
        sampler.sample()
        growths.append(sampler.growth_mb)
        outcomes.append((await wait_processed(Api(stack.port), stack.token, video["id"]))["status"])
    value, reference = median(speeds), median(direct_speeds)
    label = f"{size // MIB:,} MiB upload to S3"
    return [
        rss_growth_row("S7", label, growths),
        Row(
            scenario="S7",
            what=label,
            value=value,
            unit="MB/s",
            reference=f"direct S3 PUT {reference:,.0f} MB/s",
            ratio=value / reference,
            target=">= 70% of direct PUT",
            passed=value / reference >= TARGET,
            runs=speeds,
            note=f"processing afterwards ended: {', '.join(outcomes)} (the file is a header and a hole)",
        ),
    ]


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    with path.open("rb") as file:
        while chunk := await asyncio.to_thread(file.read, MIB):
            yield chunk
