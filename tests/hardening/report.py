"""Counts the hardening tests collect, printed in pytest's terminal summary (see conftest.py)."""

from __future__ import annotations

from collections import defaultdict

REPORT: defaultdict[str, list[str]] = defaultdict(list)


def record(section: str, line: str) -> None:
    REPORT[section].append(line)
