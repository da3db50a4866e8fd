"""Side-by-side wrk runs: warm both targets up, then alternate them so drift hits both alike."""

from __future__ import annotations

from bench.context import Bench
from bench.results import Row, median
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


def download_row(
    scenario: str,
    clients: int,
    mine: list[WrkResult],
    theirs: list[WrkResult],
    *,
    against: str,
    at_least: float,
    via: str = "",
) -> Row:
    """MB/s of /stream downloads against the same downloads from `against`; passes at `at_least` of it."""
    value, reference = median([r.mb_per_s for r in mine]), median([r.mb_per_s for r in theirs])
    ratio = value / reference
    return Row(
        scenario=scenario,
        what=f"{clients} client{'s' if clients > 1 else ''} /stream{via}",
        value=value,
        unit="MB/s",
        reference=f"{against} {reference:,.0f} MB/s",
        ratio=ratio,
        target=f">= {at_least:.0%} of {against}",
        passed=ratio >= at_least and not any(r.errors for r in mine),
        runs=[r.mb_per_s for r in mine],
        note=errors_note("/stream", mine),
    )
