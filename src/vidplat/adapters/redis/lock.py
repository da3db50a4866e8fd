"""Lock on Redis: SET NX PX with a random token, released by an atomic compare-and-delete."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from vidplat.domain.ports import LockUnavailable

logger = logging.getLogger(__name__)

# Delete the key only if it still holds our token: after a TTL expiry another holder may own it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""
T = TypeVar("T")

_FIRST_BACKOFF = 0.005
_MAX_BACKOFF = 0.1


class RedisLock:
    """A lease, not a mutex: a holder that outlives ttl_seconds loses the lock, so keep blocks short."""

    def __init__(
        self,
        client: Redis,
        prefix: str,
        ttl_seconds: float = 10,
        wait_seconds: float = 5,
        command_timeout_seconds: float = 0.5,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._wait_seconds = wait_seconds
        # A healthy Redis answers in milliseconds: one that does not is down, which is not contention.
        self._command_timeout = command_timeout_seconds
        self._release = client.register_script(_RELEASE)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        name = f"{self._prefix}:lock:{key}"
        token = secrets.token_hex(16)
        await self._acquire(name, token)
        try:
            yield
        finally:
            await self._release_quietly(name, token)

    async def _acquire(self, name: str, token: str) -> None:
        # The deadline also bounds the client's own reconnect retries. If it cuts off a SET that
        # did reach the server, that orphan lease simply expires after its TTL.
        backoff = _FIRST_BACKOFF
        try:
            async with asyncio.timeout(self._wait_seconds):
                while not await self._answer(self._client.set(name, token, nx=True, px=self._ttl_ms)):
                    await asyncio.sleep(backoff * random.uniform(0.5, 1.5))  # noqa: S311 - jitter, not a secret
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        except TimeoutError as exc:
            raise LockUnavailable(f"timed out waiting for lock {name!r}") from exc
        except RedisError as exc:
            raise LockUnavailable(f"lock backend failed: {exc.__class__.__name__}") from exc

    async def _answer(self, command: Awaitable[T]) -> T:
        """One round trip, failing fast (LockUnavailable) when the backend hangs instead of refusing."""
        try:
            async with asyncio.timeout(self._command_timeout):
                return await command
        except TimeoutError as exc:
            raise LockUnavailable("lock backend did not answer in time") from exc

    async def _release_quietly(self, name: str, token: str) -> None:
        # Raising here would replace the block's own outcome; the TTL frees the key anyway.
        try:
            released = await self._answer(self._release(keys=[name], args=[token]))
        except (RedisError, LockUnavailable):
            logger.warning("could not release lock %s; it will expire after its TTL", name, exc_info=True)
            return
        if not released:
            logger.warning("lock %s expired before it was released; raise its TTL or shorten the block", name)
