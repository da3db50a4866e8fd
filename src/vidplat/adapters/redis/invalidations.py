"""Changes announced to every process over Redis pub/sub, so each can keep a read cache."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection

from redis.asyncio import Redis
from redis.exceptions import RedisError

from vidplat.adapters.local.cache import MemoryReadCache

log = logging.getLogger(__name__)

PUBLISH_TIMEOUT_SECONDS = 0.5
# Silence longer than this on the subscription may hide lost messages (a frozen or partitioned
# Redis sends nothing and reports no error), so the listener pings and gives up on no answer.
HEARTBEAT_SECONDS = 1.0
SILENCE_LIMIT_SECONDS = 3.0
RECONNECT_SECONDS = 1.0


class RedisInvalidations:
    """Publishes a commit's topics on one channel; `listen` applies everyone's to this process's cache.

    The cache is active only while the subscription is known to be live: it starts suspended,
    resumes once subscribed, and is suspended (emptied) as soon as the connection fails or
    goes quiet, because messages published meanwhile are lost.
    """

    def __init__(self, client: Redis, channel: str, cache: MemoryReadCache) -> None:
        self._client = client
        self._channel = channel
        self._cache = cache

    async def publish(self, topics: Collection[str]) -> None:
        # This process at once, so a caller reads its own write whichever happens first.
        self._cache.invalidate(topics)
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await self._client.publish(self._channel, "\n".join(topics))
        except (RedisError, OSError, TimeoutError) as exc:
            # The change is committed; the other processes' caches lose their subscription to the
            # same outage and suspend, and their TTL bounds the rest.
            log.warning("announcing %d changed topics failed: %s", len(topics), exc.__class__.__name__)

    async def listen(self) -> None:
        """Run until cancelled: keep the subscription up and the cache active only while it is."""
        while True:
            _raise_if_cancelled()
            try:
                await self._subscribed()
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("cache invalidations unavailable (%s); reading through", exc.__class__.__name__)
            finally:
                self._cache.suspend()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _subscribed(self) -> None:
        async with self._client.pubsub() as pubsub:
            await pubsub.subscribe(self._channel)
            heard = time.monotonic()
            while True:
                _raise_if_cancelled()
                message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
                now = time.monotonic()
                if message is None:
                    if now - heard > SILENCE_LIMIT_SECONDS:
                        raise TimeoutError("no answer on the invalidation subscription")
                    await pubsub.ping()
                    continue
                heard = now
                kind = message["type"]
                if kind == "subscribe":
                    self._cache.resume()
                elif kind == "message":
                    self._cache.invalidate(message["data"].decode().split("\n"))


def _raise_if_cancelled() -> None:
    """Honour a cancellation that redis-py swallowed.

    Its socket writes run under asyncio.wait_for, which on Python 3.11 can drop a cancellation
    that arrives as the write completes; this loop would then never end.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
