"""Side-by-side wrk runs: warm both targets up, then alternate them so drift hits both alike."""

from __future__ import annotations

from bench.context import Bench
from bench.wrk import Load, WrkResult, run_wrk


async def alternate(
    bench: Bench, measured: Load, reference: Load, seconds: int
) -> tuple[list[WrkResult], list[WrkResult]]:
    warmup = bench.profile.warmup_s
    await run_wrk(measured, warmup)
    await run_wrk(reference, warmup)
    ours: list[WrkResult] = []
    theirs: list[WrkResult] = []
    for _ in range(bench.profile.runs):
        ours.append(await run_wrk(measured, seconds))
        theirs.append(await run_wrk(reference, seconds))
    return ours, theirs


async def repeated(bench: Bench, load: Load, seconds: int) -> list[WrkResult]:
    """One more target measured like the pairs: warmed up, then the profile's runs."""
    await run_wrk(load, bench.profile.warmup_s)
    return [await run_wrk(load, seconds) for _ in range(bench.profile.runs)]


def errors_note(label: str, results: list[WrkResult]) -> str:
    errors = sum(r.errors for r in results)
    return f"{label}: {errors} failed requests" if errors else ""
