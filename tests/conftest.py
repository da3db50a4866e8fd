"""Fixtures shared by every tier."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from tests.s3 import S3Service, moto_s3
from tests.services import throwaway_database, throwaway_redis

pytest_plugins = ["tests.integration.sql_fixtures", "tests.integration.redis_fixtures"]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty throwaway PostgreSQL database for this test session."""
    with throwaway_database() as url:
        yield url


@pytest.fixture(scope="session")
def redis_service() -> Iterator[tuple[str, str]]:
    """(redis_url, key_prefix) for this test session; keys under the prefix are removed."""
    with throwaway_redis() as service:
        yield service


# Tests that need PostgreSQL or Redis skip one by one; the summary says it once, with how to run them.
SERVICES_HINT = (
    "to run them: VIDPLAT_TEST_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres "
    "VIDPLAT_TEST_REDIS_URL=redis://127.0.0.1:6379/0 uv run pytest (or start a Docker engine)"
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Skips counted by reason, on one line each, instead of one line per test (addopts has no -rs)."""
    reasons = Counter(_skip_reason(report) for report in terminalreporter.stats.get("skipped", []))
    if not reasons:
        return
    terminalreporter.section("skipped", sep="-")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}")
    if any("not available for tests" in reason for reason in reasons):
        terminalreporter.write_line(f"{sum(reasons.values())} skipped in all; {SERVICES_HINT}", yellow=True)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3Service]:
    """An in-process S3 emulator (moto) with a bucket; each user takes its own key prefix."""
    with moto_s3() as service:
        yield service
