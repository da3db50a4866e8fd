"""Fixtures shared by every tier."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
