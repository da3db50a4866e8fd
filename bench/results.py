"""The one table: scenario, figure, reference, ratio, target, pass/fail; printed and written as JSON."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).with_name("results")


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    scenario: str
    what: str  # what the figure is, e.g. "1 client /stream"
    value: float | None  # None when the scenario could not run
    unit: str
    reference: str = "-"
    ratio: float | None = None
    target: str = "report"
    passed: bool | None = None  # None: reported, no target
    runs: list[float] = field(default_factory=list)  # the individual runs behind a median
    note: str = ""

    @property
    def figure(self) -> str:
        if self.value is None:
            return "n/a"
        return f"{_number(self.value)} {self.unit}".strip()

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "info"}[self.passed]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def failed_row(scenario: str, what: str, error: BaseException) -> Row:
    return Row(scenario=scenario, what=what, value=None, unit="", passed=False, note=f"{type(error).__name__}: {error}")


def _number(value: float) -> str:
    if abs(value) >= 100:  # noqa: PLR2004 - beyond three digits decimals are noise
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.1f}"


def render(rows: Sequence[Row]) -> str:
    header = ("scenario", "figure", "reference", "ratio", "target", "result")
    lines = [
        (
            f"{r.scenario} {r.what}",
            r.figure,
            r.reference,
            "-" if r.ratio is None else f"{r.ratio:.0%}",
            r.target,
            r.verdict,
        )
        for r in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=False)]

    def fmt(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [fmt(header), fmt(["-" * w for w in widths])]
    out += [fmt(line) for line in lines]
    out += [f"  {r.scenario}: {r.note}" for r in rows if r.note]
    return "\n".join(out)


def write_json(path: Path, meta: dict[str, Any], rows: Sequence[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    table = [{**asdict(r), "figure": r.figure, "result": r.verdict} for r in rows]
    path.write_text(json.dumps({**meta, "rows": table}, indent=2) + "\n")
