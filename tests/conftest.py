"""Fixtures shared by every tier."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3Service]:
    """An in-process S3 emulator (moto) with a bucket; each user takes its own key prefix."""
    with moto_s3() as service:
        yield service
