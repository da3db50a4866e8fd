"""Lock on Redis: SET NX PX with a random token, released by an atomic compare-and-delete."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Collection
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from vidplat.domain.ports import LockUnavailable

logger = logging.getLogger(__name__)

# Delete each key only if it still holds our token: after a TTL expiry another holder may own it.
_RELEASE = """
local released = 0
for _, key in ipairs(KEYS) do
    if redis.call('get', key) == ARGV[1] then
        released = released + redis.call('del', key)
    end
end
return released
"""
# SET NX PX for each key in one round trip: the 1-based positions of the keys it set.
_ACQUIRE_FREE = """
local held = {}
for i, key in ipairs(KEYS) do
    if redis.call('set', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
        held[#held + 1] = i
    end
end
return held
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
        self._acquire_free = client.register_script(_ACQUIRE_FREE)

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        name = self._name(key)
        token = secrets.token_hex(16)
        await self._acquire(name, token)
        try:
            yield
        finally:
            await self._release_quietly([name], token)

    @asynccontextmanager
    async def hold_free(self, keys: Collection[str]) -> AsyncIterator[frozenset[str]]:
        ordered = list(keys)
        names = [self._name(key) for key in ordered]
        token = secrets.token_hex(16)  # one per batch: each key is still released only by its holder
        try:
            positions = await self._answer(self._acquire_free(keys=names, args=[token, self._ttl_ms]))
        except RedisError as exc:
            raise LockUnavailable(f"lock backend failed: {exc.__class__.__name__}") from exc
        held = [ordered[i - 1] for i in positions]
        try:
            yield frozenset(held)
        finally:
            if held:
                await self._release_quietly([self._name(key) for key in held], token)

    def _name(self, key: str) -> str:
        return f"{self._prefix}:lock:{key}"

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

    async def _release_quietly(self, names: list[str], token: str) -> None:
        # Raising here would replace the block's own outcome; the TTL frees the keys anyway.
        try:
            released = await self._answer(self._release(keys=names, args=[token]))
        except (RedisError, LockUnavailable):
            logger.warning("could not release lock %s; it will expire after its TTL", names[0], exc_info=True)
            return
        if released < len(names):
            logger.warning("lock %s expired before it was released; raise its TTL or shorten the block", names[0])
