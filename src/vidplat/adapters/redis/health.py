"""Readiness of the Redis server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import cast

from redis.asyncio import Redis
from redis.exceptions import RedisError


async def redis_ready(client: Redis, timeout_seconds: float = 1.0) -> bool:
    """True when the server answers PING within the timeout."""
    try:
        async with asyncio.timeout(timeout_seconds):
            # redis-py annotates ping() for its sync and async clients at once.
            return await cast("Awaitable[bool]", client.ping())
    except (RedisError, TimeoutError):
        return False
