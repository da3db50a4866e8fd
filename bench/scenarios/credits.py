"""S4: the credit burst. Every member's first view of every video, each asked 3 times, 64 in flight.

Each round needs views that were never credited, so rounds after the first use a fresh batch
of videos (uploaded before the clock starts) rather than resetting rows behind the
application's back, which any caching of "already credited" would rightly not expect.

The reference is the very same burst replayed on the views it just credited: the same
requests, with crediting (nearly) free, so the ratio is what crediting costs playback. So that
it measures only that, the same requests for the videos' metadata warm every other cache first.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from uuid import UUID

from bench.config import CREDIT_IN_FLIGHT, CREDIT_REPEATS, VIDEOS
from bench.context import Bench
from bench.rawhttp import Connection
from bench.results import Row, median
from bench.seed import bounded, upload_batch
from bench.services import fetch

MIN_CREDITED_PER_S = 1500
MIN_RATIO_TO_FREE = 0.9
PARTIAL = 206  # the burst asks for a small range: crediting is what is measured, not bytes


async def s4(bench: Bench) -> list[Row]:
    rates, counts, notes, request_rates, free_rates = [], [], [], [], []
    for round_no in range(bench.profile.runs):
        videos = bench.world.videos if round_no == 0 else await _fresh_videos(bench, round_no)
        await _burst(bench, videos, "")  # sessions and videos cached, as they are for the replay
        seconds, statuses = await _burst(bench, videos)
        credited = await _credited_once_settled(bench, videos, len(bench.world.members) * len(videos))
        free_seconds, free_statuses = await _burst(bench, videos)
        counts.append(credited)
        rates.append(credited / seconds)
        request_rates.append(statuses.total() / seconds)
        free_rates.append(free_statuses.total() / free_seconds)
        if set(statuses) != {PARTIAL} or set(free_statuses) != {PARTIAL}:
            notes.append(f"round {round_no + 1} answers {dict(statuses)}, replayed {dict(free_statuses)}")
    ratio = median(request_rates) / median(free_rates)
    expected = len(bench.world.members) * VIDEOS
    return [
        Row(
            scenario="S4",
            what=f"credits in PostgreSQL after each burst (x{len(counts)})",
            value=median(counts),
            unit="credits",
            reference=f"expected {expected:,}",
            target=f"exactly {expected:,}",
            passed=all(c == expected for c in counts) and not notes,
            runs=[float(c) for c in counts],
            note="; ".join(notes),
        ),
        Row(
            scenario="S4",
            what=f"credit burst, {CREDIT_IN_FLIGHT} in flight",
            value=median(rates),
            unit="credited views/s",
            target=f">= {MIN_CREDITED_PER_S:,}/s",
            passed=median(rates) >= MIN_CREDITED_PER_S,
            runs=rates,
            note=f"{expected * CREDIT_REPEATS:,} requests per burst at {median(request_rates):,.0f} req/s",
        ),
        Row(
            scenario="S4",
            what="credit burst against the same burst on credited views",
            value=median(request_rates),
            unit="req/s",
            reference=f"{median(free_rates):,.0f} req/s crediting free",
            ratio=ratio,
            target=f">= {MIN_RATIO_TO_FREE:.0%} of crediting free",
            passed=ratio >= MIN_RATIO_TO_FREE,
            runs=request_rates,
            note=f"replays at {', '.join(f'{r:,.0f}' for r in free_rates)} req/s",
        ),
    ]


async def _fresh_videos(bench: Bench, round_no: int) -> list[str]:
    port, admin = bench.stack.port, bench.world.admin_token
    batch = upload_batch(port, admin, bench.small_video, round_no * VIDEOS, VIDEOS)
    return [video["id"] for video in await bounded(4, batch)]


async def _burst(bench: Bench, videos: list[str], what: str = "/stream") -> tuple[float, Counter[int]]:
    """Seconds for all requests to be answered, and the answers' status codes."""
    work = [(m.token, v) for m in bench.world.members for v in videos] * CREDIT_REPEATS
    random.shuffle(work)  # the repeats of one view land at different moments, sometimes concurrently
    queue = iter(work)
    statuses: Counter[int] = Counter()
    connections = [Connection("127.0.0.1", bench.stack.port) for _ in range(CREDIT_IN_FLIGHT)]
    # Warm-up: every connection open and served once before the clock starts.
    await asyncio.gather(*(c.request("GET", "/health") for c in connections))

    async def player(conn: Connection) -> None:
        for token, video in queue:  # one shared iterator: each task takes the next request
            headers = {"Authorization": f"Bearer {token}", "Range": "bytes=0-1023"}
            answer = await conn.request("GET", f"/api/v1/videos/{video}{what}", headers=headers, keep_body=False)
            statuses[answer.status] += 1

    started = time.perf_counter()
    try:
        await asyncio.gather(*(player(c) for c in connections))
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return time.perf_counter() - started, statuses


async def _credited_once_settled(bench: Bench, videos: list[str], expected: int) -> int:
    """The credits once the last ones the answered streams left running have landed (at most 10 s)."""
    credited = await _credited(bench, videos)
    for _ in range(100):
        if credited >= expected:
            break
        await asyncio.sleep(0.1)
        credited = await _credited(bench, videos)
    return credited


async def _credited(bench: Bench, videos: list[str]) -> int:
    """Credits in PostgreSQL for these members and videos: the ground truth, not the API's word."""
    rows = await fetch(
        bench.state.dsn,
        "SELECT count(*) AS n FROM view_credits WHERE video_id = ANY($1::uuid[]) AND user_id = ANY($2::uuid[])",
        [UUID(v) for v in videos],
        [UUID(m.id) for m in bench.world.members],
    )
    count: int = rows[0]["n"]
    return count
