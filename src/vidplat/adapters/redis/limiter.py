"""AttemptLimiter on Redis: a failure counter per key whose window starts at the first failure."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


class RedisAttemptLimiter:
    """Fails open: while Redis is unreachable nobody is throttled, so login keeps working.

    Every call is bounded by timeout_seconds (the client may otherwise spend seconds in its
    reconnect retries), and an outage is logged instead of raised.
    """

    def __init__(
        self, client: Redis, prefix: str, limit: int = 10, window_seconds: int = 900, timeout_seconds: float = 0.5
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._limit = limit
        self._window_seconds = window_seconds
        self._timeout_seconds = timeout_seconds

    async def retry_after(self, key: str) -> int:
        try:
            async with asyncio.timeout(self._timeout_seconds), self._client.pipeline(transaction=True) as pipe:
                pipe.get(self._name(key))
                pipe.ttl(self._name(key))
                count, ttl = await pipe.execute()
        except (RedisError, TimeoutError) as exc:
            _log_outage("not throttling", exc)
            return 0
        # A key without a TTL (-1) cannot come from record_failure; never let it block forever.
        if count is None or int(count) < self._limit or ttl <= 0:
            return 0
        return int(ttl)

    async def record_failure(self, key: str) -> None:
        try:
            async with asyncio.timeout(self._timeout_seconds), self._client.pipeline(transaction=True) as pipe:
                pipe.incr(self._name(key))
                # NX: later failures must not push the end of the window back.
                pipe.expire(self._name(key), self._window_seconds, nx=True)
                await pipe.execute()
        except (RedisError, TimeoutError) as exc:
            _log_outage("failure not counted", exc)

    async def reset(self, key: str) -> None:
        try:
            async with asyncio.timeout(self._timeout_seconds):
                await self._client.delete(self._name(key))
        except (RedisError, TimeoutError) as exc:
            _log_outage("counter not reset", exc)

    def _name(self, key: str) -> str:
        return f"{self._prefix}:attempts:{key}"


def _log_outage(consequence: str, exc: Exception) -> None:
    # Keys hold login identifiers (personal data): they stay out of the logs.
    logger.warning("attempt limiter unavailable (%s); %s", exc.__class__.__name__, consequence)
