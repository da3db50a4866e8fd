"""Without services, `uv run pytest` says once how many tests skipped and how to run them, not once per test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import pytest

from tests.conftest import SERVICES_HINT, pytest_terminal_summary


@dataclass
class Report:
    longrepr: tuple[str, int, str]


@dataclass
class Terminal:
    stats: dict[str, list[Report]]
    lines: list[str] = field(default_factory=list)

    def section(self, title: str, sep: str = "=") -> None:
        self.lines.append(f"-- {title}")

    def write_line(self, line: str, **_: Any) -> None:
        self.lines.append(line)


def summary(*reasons: str) -> list[str]:
    terminal = Terminal({"skipped": [Report(("tests/x.py", n, f"Skipped: {r}")) for n, r in enumerate(reasons)]})
    pytest_terminal_summary(cast(pytest.TerminalReporter, terminal))
    return terminal.lines


def test_service_skips_are_counted_by_reason_with_one_line_on_how_to_enable_them() -> None:
    database = "database is not available for tests: no VIDPLAT_TEST_DATABASE_URL and no Docker engine"
    redis = "redis is not available for tests: no VIDPLAT_TEST_REDIS_URL and no Docker engine"

    lines = summary(database, database, database, redis)

    assert lines == [
        "-- skipped",
        f"3 skipped: {database}",
        f"1 skipped: {redis}",
        f"4 skipped in all; {SERVICES_HINT}",
    ]


def test_other_skips_get_no_services_hint_and_no_skips_print_nothing() -> None:
    assert summary("needs chromium") == ["-- skipped", "1 skipped: needs chromium"]
    assert summary() == []
