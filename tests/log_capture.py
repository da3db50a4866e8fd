"""Capturing log lines as vidplat renders them: the real formatter on a handler of the root logger."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from vidplat.entrypoints.logs import formatter


@dataclass(frozen=True, slots=True)
class Captured:
    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """Every line, parsed as the JSON object it must be."""
        return [json.loads(line) for line in self.text.splitlines()]


@contextmanager
def captured_logs(level: int = logging.INFO, log_format: str = "json") -> Iterator[Captured]:
    """Lines at `level` and above, from every logger, while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter(log_format))
    handler.setLevel(level)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(min(level, previous) if previous else level)
    try:
        yield Captured(stream)
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)
