"""Latency of one request kind, called in a loop by a few concurrent clients for a while."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

CLIENTS = 4  # concurrent callers of cached reads: enough to queue behind a reload
MAX_CALLS = 100_000  # per client: a bound on the loop whatever the duration


@dataclass(frozen=True, slots=True)
class Latency:
    p50_ms: float
    p99_ms: float
    per_second: float
    calls: int


async def latency(call: Callable[[], Awaitable[object]], seconds: float, clients: int = CLIENTS) -> Latency:
    """Warm once, then `clients` loops of `call` for `seconds`; percentiles over every call."""
    await call()
    samples: list[float] = []
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        for _ in range(MAX_CALLS):
            if time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(samples, n=100, method="inclusive") if len(samples) > 1 else samples * 99
    return Latency(
        p50_ms=statistics.median(samples), p99_ms=cuts[98], per_second=len(samples) / elapsed, calls=len(samples)
    )
