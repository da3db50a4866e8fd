"""Fixtures of the hardening tests: backends of both wirings, a sample video, and the counts summary."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.report import REPORT
from tests.hardening.wiring import Backend, Wiring
from tests.media import make_mp4
from tests.services import throwaway_database
from vidplat.adapters.sql.migrate import run_migrations


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not REPORT:
        return
    terminalreporter.write_sep("=", "hardening coverage")
    for section, lines in sorted(REPORT.items()):
        for line in lines:
            terminalreporter.write_line(f"{section}: {line}")


@pytest.fixture(scope="session")
def sample_mp4(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small real H.264 MP4 with an audio track."""
    return make_mp4(tmp_path_factory.mktemp("media") / "sample.mp4", seconds=1.0, audio=True).read_bytes()


@pytest.fixture(scope="session")
def hardening_database() -> Iterator[str]:
    """One migrated throwaway PostgreSQL database for the production wiring of every hardening module."""
    with throwaway_database() as url:
        run_migrations(url)
        yield url


def make_backend(request: pytest.FixtureRequest, wiring: Wiring, data_dir: Path) -> Backend:
    """A backend of the wiring: a fresh migrated SQLite file, or the shared database with a fresh Redis prefix."""
    if wiring is Wiring.EMBEDDED:
        url = f"sqlite+aiosqlite:///{data_dir / 'vidplat.db'}"
        data_dir.mkdir(parents=True, exist_ok=True)
        run_migrations(url)
        return Backend(wiring=wiring, data_dir=data_dir, database_url=url)
    redis_url, prefix = request.getfixturevalue("redis_service")
    return Backend(
        wiring=wiring,
        data_dir=data_dir,
        database_url=request.getfixturevalue("hardening_database"),
        redis_url=redis_url,
        redis_prefix=f"{prefix}:{secrets.token_hex(4)}",
    )


@pytest.fixture(scope="module", params=list(Wiring), ids=str)
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    """Each test module runs once per wiring, against its own data directory."""
    wiring = Wiring(request.param)
    return make_backend(request, wiring, tmp_path_factory.mktemp(wiring.value))
