"""Fixtures for the Redis adapter tests: a client on the test server and a fresh key prefix."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis


@pytest.fixture
async def client(redis_service: tuple[str, str]) -> AsyncIterator[Redis]:
    url, _ = redis_service
    client = Redis.from_url(url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix(redis_service: tuple[str, str]) -> str:
    """A fresh prefix per test (under the session's one, which the fixture cleans up)."""
    return f"{redis_service[1]}:{secrets.token_hex(4)}"
