"""AttemptLimiter on Redis: a counter per key whose window starts at the first attempt."""

from __future__ import annotations

import asyncio
import hashlib
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from vidplat.domain.accounts.policy import Quota
from vidplat.domain.ports import AttemptLimiter

logger = logging.getLogger(__name__)


class RedisAttemptLimiter:
    """While Redis is unreachable, counts in this process instead: login keeps working and stays throttled.

    Every call is bounded by timeout_seconds (the client may otherwise spend seconds in its
    reconnect retries), and an outage is logged instead of raised. The fallback's counts are
    per process, so an outage at most multiplies the limits by the number of API processes.
    """

    def __init__(self, client: Redis, prefix: str, fallback: AttemptLimiter, timeout_seconds: float = 0.5) -> None:
        self._client = client
        self._prefix = prefix
        self._fallback = fallback
        self._timeout_seconds = timeout_seconds

    async def hit(self, quota: Quota, key: str) -> int:
        name = self.key_name(quota, key)
        try:
            # MULTI/EXEC: the increment, the window's start and the read of its end are one step,
            # so every concurrent attempt sees its own count.
            async with asyncio.timeout(self._timeout_seconds), self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, quota.window_seconds, nx=True)  # NX: later attempts never push the end back
                pipe.ttl(name)
                count, _, ttl = await pipe.execute()
        except (RedisError, TimeoutError) as exc:
            _log_outage("counting in this process", exc)
            return await self._fallback.hit(quota, key)
        if int(count) <= quota.limit:
            return 0
        return max(1, int(ttl))

    async def reset(self, quota: Quota, key: str) -> None:
        await self._fallback.reset(quota, key)
        try:
            async with asyncio.timeout(self._timeout_seconds):
                await self._client.delete(self.key_name(quota, key))
        except (RedisError, TimeoutError) as exc:
            _log_outage("counter not reset", exc)

    def key_name(self, quota: Quota, key: str) -> str:
        # Keys hold login identifiers and addresses (personal data): Redis only sees a digest.
        digest = hashlib.sha256(key.encode()).hexdigest()[:32]
        return f"{self._prefix}:attempts:{quota.name}:{digest}"


def _log_outage(consequence: str, exc: Exception) -> None:
    logger.warning("attempt limiter unavailable (%s); %s", exc.__class__.__name__, consequence)
