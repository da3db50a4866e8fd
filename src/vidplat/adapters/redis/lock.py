"""Lock on Redis: SET NX PX with a random token, released by an atomic compare-and-delete (or mark-done)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Collection
from contextlib import asynccontextmanager
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from vidplat.domain.ports import Held, LockUnavailable

logger = logging.getLogger(__name__)

DONE = "done"  # a key's value once its holder finished; never a token (those are 32 hex digits)

# SET NX PX for each key in one round trip: the 1-based positions of the keys it set, and of those left done.
_ACQUIRE_FREE = """
local held, done = {}, {}
for i, key in ipairs(KEYS) do
    if redis.call('set', key, ARGV[1], 'NX', 'PX', ARGV[2]) then
        held[#held + 1] = i
    elseif redis.call('get', key) == ARGV[3] then
        done[#done + 1] = i
    end
end
return {held, done}
"""
# Release each key only if it still holds our token (after a TTL expiry another holder may own it):
# the first ARGV[2] keys are left done for ARGV[3] ms, the others deleted.
_RELEASE = """
local released = 0
for i, key in ipairs(KEYS) do
    if redis.call('get', key) == ARGV[1] then
        if i <= tonumber(ARGV[2]) then
            redis.call('set', key, ARGV[4], 'PX', ARGV[3])
        else
            redis.call('del', key)
        end
        released = released + 1
    end
end
return released
"""
T = TypeVar("T")


class RedisLock:
    """A lease, not a mutex: a holder that outlives ttl_seconds loses the lock, so keep blocks short.

    A finished key stays marked done for done_ttl_seconds: long enough for every process's
    in-flight attempts at it to learn it from this one round trip instead of doing the work again.
    """

    def __init__(
        self,
        client: Redis,
        prefix: str,
        ttl_seconds: float = 10,
        done_ttl_seconds: float = 600,
        command_timeout_seconds: float = 0.5,
    ) -> None:
        self._client = client
        self._prefix = prefix
        self._ttl_ms = max(1, int(ttl_seconds * 1000))
        self._done_ttl_ms = max(1, int(done_ttl_seconds * 1000))
        # A healthy Redis answers in milliseconds: one that does not is down, which is not contention.
        self._command_timeout = command_timeout_seconds
        self._release = client.register_script(_RELEASE)
        self._acquire_free = client.register_script(_ACQUIRE_FREE)

    @asynccontextmanager
    async def hold_free(self, keys: Collection[str]) -> AsyncIterator[Held]:
        ordered = list(keys)
        token = secrets.token_hex(16)  # one per batch: each key is still released only by its holder
        try:
            # A call the deadline cuts off may still have set keys: those leases simply expire.
            held_at, done_at = await self._answer(
                self._acquire_free(keys=[self._name(key) for key in ordered], args=[token, self._ttl_ms, DONE])
            )
        except RedisError as exc:
            raise LockUnavailable(f"lock backend failed: {exc.__class__.__name__}") from exc
        held = Held(frozenset(ordered[i - 1] for i in held_at), frozenset(ordered[i - 1] for i in done_at))
        try:
            yield held
        finally:
            if held.keys:
                await self._release_quietly(held, token)

    def _name(self, key: str) -> str:
        return f"{self._prefix}:lock:{key}"

    async def _answer(self, command: Awaitable[T]) -> T:
        """One round trip, failing fast (LockUnavailable) when the backend hangs instead of refusing."""
        try:
            async with asyncio.timeout(self._command_timeout):
                return await command
        except TimeoutError as exc:
            raise LockUnavailable("lock backend did not answer in time") from exc

    async def _release_quietly(self, held: Held, token: str) -> None:
        # Raising here would replace the block's own outcome; the TTL frees the keys anyway.
        finished = held.keys & held.finished
        names = [self._name(key) for key in (*finished, *(held.keys - finished))]
        try:
            released = await self._answer(
                self._release(keys=names, args=[token, len(finished), self._done_ttl_ms, DONE])
            )
        except (RedisError, LockUnavailable):
            logger.warning("could not release lock %s; it will expire after its TTL", names[0], exc_info=True)
            return
        if released < len(names):
            logger.warning("lock %s expired before it was released; raise its TTL or shorten the block", names[0])
