"""The process's read cache, and the in-process way to announce what a commit changed."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from vidplat.domain.ports import Clock

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class _Entry:
    value: object
    topics: Collection[str]
    expires_at: datetime
    weight: int


def _one(_: object) -> int:
    return 1


@dataclass(slots=True)
class _Flight:
    """A load under way. Stale once a topic it depends on changed: it may have read the old rows."""

    topics: Collection[str]
    task: asyncio.Future[Any]
    stale: bool = False


class MemoryReadCache:
    """An LRU of loaded values, each dropped when one of its topics is invalidated or its TTL ends.

    It is only as fresh as the invalidations it hears, so whoever delivers them turns it off
    (`suspend`) while some may be missed and back on (`resume`) once they arrive again; while
    off, every read loads. The TTL bounds the damage of an invalidation lost some other way.

    A value past its TTL is still served, for one more TTL, while a single load refreshes it in
    the background (stale-while-revalidate), so readers never queue behind a routine reload. Only
    the TTL works that way: an invalidated value is dropped at once and never served again, and a
    refresh that overlapped the invalidation is not kept. A value a lost message left behind is
    thus gone after at most two TTLs.

    Its size is bounded by weight, not by count: `weigh` says how many ordinary values one is
    worth (a page of 100 videos is not one row), so no mix of keys can grow it past `max_weight`.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        ttl: timedelta,
        max_weight: int,
        weigh: Callable[[object], int] = _one,
        active: bool = True,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._max_weight = max_weight
        self._weigh = weigh
        self._weight = 0
        self._active = active
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._keys_by_topic: dict[str, set[Hashable]] = {}
        # Fresh loads under way, shared by callers of the same key. A stale one leaves this map
        # (later callers must see the change) and is returned to its callers but not kept.
        self._flights: dict[Hashable, _Flight] = {}

    @property
    def active(self) -> bool:
        return self._active

    def __len__(self) -> int:
        return len(self._entries)

    async def get_or_load(self, key: Hashable, topics: Collection[str], load: Callable[[], Awaitable[T]]) -> T:
        if not self._active:
            return await load()
        now = self._clock.now()
        entry = self._entries.get(key)
        if entry is not None:
            if now < entry.expires_at + self._ttl:
                self._entries.move_to_end(key)
                if now >= entry.expires_at:
                    self._fly(key, topics, load, now)  # the refresh; this caller does not wait for it
                return cast("T", entry.value)
            self._drop(key)
        # Shielded: a caller that goes away (a client disconnecting) must not cancel the load for the others.
        return cast("T", await asyncio.shield(self._fly(key, topics, load, now).task))

    def _fly(self, key: Hashable, topics: Collection[str], load: Callable[[], Awaitable[T]], now: datetime) -> _Flight:
        """The key's load under way, started if there is none."""
        flight = self._flights.get(key)
        if flight is None:
            flight = self._flights[key] = _Flight(topics, asyncio.ensure_future(load()))
            flight.task.add_done_callback(lambda _: self._landed(key, flight, now))
        return flight

    def _landed(self, key: Hashable, flight: _Flight, loaded_at: datetime) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        # Asked either way: a failed background refresh has no caller to retrieve its exception.
        failed = flight.task.cancelled() or flight.task.exception() is not None
        if not flight.stale and not failed:
            value = flight.task.result()
            self._keep(key, _Entry(value, flight.topics, loaded_at + self._ttl, self._weigh(value)))

    def invalidate(self, topics: Collection[str]) -> None:
        changed = set(topics)
        for topic in changed:
            for key in self._keys_by_topic.pop(topic, ()):
                self._drop(key)
        for key, flight in list(self._flights.items()):
            if not changed.isdisjoint(flight.topics):
                self._ground(key, flight)

    def suspend(self) -> None:
        """Forget everything and load every read until resume(): invalidations may be missed meanwhile."""
        self._active = False
        self._entries.clear()
        self._keys_by_topic.clear()
        self._weight = 0
        for key, flight in list(self._flights.items()):
            self._ground(key, flight)

    def resume(self) -> None:
        self._active = True

    def _ground(self, key: Hashable, flight: _Flight) -> None:
        flight.stale = True
        del self._flights[key]

    def _keep(self, key: Hashable, entry: _Entry) -> None:
        self._drop(key)
        if entry.weight > self._max_weight:
            return
        self._entries[key] = entry
        self._weight += entry.weight
        for topic in entry.topics:
            self._keys_by_topic.setdefault(topic, set()).add(key)
        while self._weight > self._max_weight:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._weight -= entry.weight
        for topic in entry.topics:
            keys = self._keys_by_topic.get(topic)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._keys_by_topic[topic]


class LocalInvalidations:
    """Announces changes to this process's cache only: right for embedded mode's single process."""

    def __init__(self, cache: MemoryReadCache) -> None:
        self._cache = cache

    async def publish(self, topics: Collection[str]) -> None:
        self._cache.invalidate(topics)
