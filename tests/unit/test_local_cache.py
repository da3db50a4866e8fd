"""The process's read cache: topics, TTL, LRU bound, and never keeping a load that overlapped a change."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeClock
from vidplat.adapters.local.cache import LocalInvalidations, MemoryReadCache

TTL = timedelta(seconds=10)


class Source:
    """A value that changes, counting how often it is read."""

    def __init__(self, value: str = "v1") -> None:
        self.value = value
        self.reads = 0

    async def load(self) -> str:
        self.reads += 1
        return self.value


def make_cache(clock: FakeClock | None = None, *, max_weight: int = 100, active: bool = True) -> MemoryReadCache:
    return MemoryReadCache(clock or FakeClock(), ttl=TTL, max_weight=max_weight, active=active)


async def test_a_kept_value_is_served_without_loading_again() -> None:
    cache, source = make_cache(), Source()
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"
    source.value = "v2"
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"
    assert source.reads == 1


async def test_invalidating_a_topic_drops_every_value_that_depends_on_it_and_only_those() -> None:
    cache = make_cache()
    a, b, other = Source("a"), Source("b"), Source("other")
    await cache.get_or_load("a", ["org:1", "user:1"], a.load)
    await cache.get_or_load("b", ["org:1"], b.load)
    await cache.get_or_load("other", ["org:2"], other.load)
    a.value, b.value, other.value = "a2", "b2", "other2"

    cache.invalidate(["org:1"])

    assert await cache.get_or_load("a", ["org:1", "user:1"], a.load) == "a2"
    assert await cache.get_or_load("b", ["org:1"], b.load) == "b2"
    assert await cache.get_or_load("other", ["org:2"], other.load) == "other"


class GatedSource(Source):
    """A source whose loads wait for `gate`, so a test decides when a refresh lands."""

    def __init__(self, value: str = "v1") -> None:
        super().__init__(value)
        self.gate = asyncio.Event()
        self.fail = False

    async def load(self) -> str:
        self.reads += 1
        await self.gate.wait()
        if self.fail:
            raise RuntimeError("database down")
        return self.value


async def drain() -> None:
    """Let every ready task run to its next wait (a few loop turns; no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)


async def _loaded(cache: MemoryReadCache, source: GatedSource, key: str = "k") -> None:
    source.gate.set()
    await cache.get_or_load(key, ["t"], source.load)
    source.gate.clear()


async def test_a_value_past_its_ttl_is_served_while_one_load_refreshes_it() -> None:
    clock = FakeClock()
    cache, source = make_cache(clock), GatedSource()
    await _loaded(cache, source)
    source.value = "v2"
    clock.advance(TTL - timedelta(microseconds=1))
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"
    assert source.reads == 1  # still fresh: no refresh

    clock.advance(microseconds=1)
    # Expired: every reader gets the old value at once (the gate is shut: none could wait for a load).
    readers = [cache.get_or_load("k", ["t"], source.load) for _ in range(5)]
    assert await asyncio.gather(*readers) == ["v1"] * 5
    assert source.reads == 2  # one refresh for all of them

    source.gate.set()
    await drain()  # the refresh lands
    assert await cache.get_or_load("k", ["t"], source.load) == "v2"
    assert source.reads == 2


async def test_a_value_two_ttls_old_is_not_served_readers_wait_for_the_load() -> None:
    clock = FakeClock()
    cache, source = make_cache(clock), GatedSource()
    await _loaded(cache, source)
    source.value = "v2"
    clock.advance(TTL * 2)
    reader = asyncio.ensure_future(cache.get_or_load("k", ["t"], source.load))
    await drain()
    assert not reader.done()
    source.gate.set()
    assert await reader == "v2"


async def test_an_invalidated_value_is_never_served_stale_and_the_refresh_under_way_is_not_kept() -> None:
    clock = FakeClock()
    cache, source = make_cache(clock), GatedSource()
    await _loaded(cache, source)
    clock.advance(TTL)
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"  # stale, refresh started on v1 rows
    cache.invalidate(["t"])
    source.value = "v2"

    reader = asyncio.ensure_future(cache.get_or_load("k", ["t"], source.load))
    await drain()
    assert not reader.done()  # no stale value after the invalidation: it waits for a load of its own
    source.gate.set()
    assert await reader == "v2"
    assert source.reads == 3


async def test_a_failed_refresh_keeps_serving_the_stale_value_and_the_next_reader_retries() -> None:
    clock = FakeClock()
    cache, source = make_cache(clock), GatedSource()
    await _loaded(cache, source)
    clock.advance(TTL)
    source.fail = True
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"
    source.gate.set()
    await drain()  # the refresh fails
    source.gate.clear()
    source.fail, source.value = False, "v2"
    assert await cache.get_or_load("k", ["t"], source.load) == "v1"
    await drain()
    assert source.reads == 3  # a new refresh
    source.gate.set()
    await drain()
    assert await cache.get_or_load("k", ["t"], source.load) == "v2"


async def test_the_least_recently_used_value_goes_first_when_full() -> None:
    cache = make_cache(max_weight=2)
    one, two, three = Source("1"), Source("2"), Source("3")
    await cache.get_or_load("one", ["t1"], one.load)
    await cache.get_or_load("two", ["t2"], two.load)
    await cache.get_or_load("one", ["t1"], one.load)  # now the most recent
    await cache.get_or_load("three", ["t3"], three.load)

    assert len(cache) == 2
    await cache.get_or_load("one", ["t1"], one.load)
    await cache.get_or_load("two", ["t2"], two.load)
    assert (one.reads, two.reads) == (1, 2)
    # An evicted entry leaves nothing behind for its topics to trip over.
    cache.invalidate(["t1", "t2", "t3"])
    assert len(cache) == 0


async def test_a_load_that_overlapped_an_invalidation_is_returned_but_not_kept() -> None:
    """The load may have read the rows before the change committed: keeping it would pin stale data."""
    cache, source = make_cache(), Source()
    loading, release = asyncio.Event(), asyncio.Event()

    async def slow_load() -> str:
        value = source.value
        loading.set()
        await release.wait()
        return value

    reader = asyncio.create_task(cache.get_or_load("k", ["t"], slow_load))
    await loading.wait()
    source.value = "v2"
    cache.invalidate(["t"])
    release.set()

    assert await reader == "v1"
    assert await cache.get_or_load("k", ["t"], source.load) == "v2"


async def test_a_suspended_cache_forgets_everything_and_loads_every_read_until_resumed() -> None:
    cache, source = make_cache(), Source()
    await cache.get_or_load("k", ["t"], source.load)

    cache.suspend()
    source.value = "v2"
    assert await cache.get_or_load("k", ["t"], source.load) == "v2"
    assert await cache.get_or_load("k", ["t"], source.load) == "v2"
    assert (source.reads, len(cache)) == (3, 0)

    cache.resume()
    await cache.get_or_load("k", ["t"], source.load)
    await cache.get_or_load("k", ["t"], source.load)
    assert source.reads == 4


async def test_a_load_that_overlapped_a_suspension_is_not_kept() -> None:
    cache, source = make_cache(), Source()
    release = asyncio.Event()

    async def slow_load() -> str:
        await release.wait()
        return source.value

    reader = asyncio.create_task(cache.get_or_load("k", ["t"], slow_load))
    await asyncio.sleep(0)
    cache.suspend()
    cache.resume()
    release.set()
    await reader
    assert len(cache) == 0


async def test_a_cache_that_starts_inactive_keeps_nothing() -> None:
    cache, source = make_cache(active=False), Source()
    await cache.get_or_load("k", [], source.load)
    await cache.get_or_load("k", [], source.load)
    assert (source.reads, len(cache)) == (2, 0)


async def test_a_failed_load_is_not_kept() -> None:
    cache, source = make_cache(), Source()

    async def failing() -> str:
        raise LookupError

    with pytest.raises(LookupError):
        await cache.get_or_load("k", [], failing)
    assert await cache.get_or_load("k", [], source.load) == "v1"


async def test_local_invalidations_reach_the_cache() -> None:
    cache, source = make_cache(), Source()
    await cache.get_or_load("k", ["videos:1"], source.load)
    source.value = "v2"
    await LocalInvalidations(cache).publish(["videos:1"])
    assert await cache.get_or_load("k", ["videos:1"], source.load) == "v2"


class Gate:
    """A load that waits to be released, counting how often it was started."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.release = asyncio.Event()
        self.entered = asyncio.Event()
        self.started = 0

    async def load(self) -> str:
        self.started += 1
        value = self.source.value
        self.entered.set()
        await self.release.wait()
        return value


async def test_concurrent_misses_of_one_key_share_one_load() -> None:
    cache, gate = make_cache(), Gate(Source())
    readers = [asyncio.create_task(cache.get_or_load("k", ["t"], gate.load)) for _ in range(20)]
    await asyncio.sleep(0)
    gate.release.set()
    assert await asyncio.gather(*readers) == ["v1"] * 20
    assert gate.started == 1


async def test_a_caller_after_an_invalidation_does_not_join_the_load_that_predates_it() -> None:
    cache, source = make_cache(), Source()
    gate = Gate(source)
    early = asyncio.create_task(cache.get_or_load("k", ["t"], gate.load))
    await gate.entered.wait()
    source.value = "v2"
    cache.invalidate(["t"])
    late = asyncio.create_task(cache.get_or_load("k", ["t"], gate.load))
    await asyncio.sleep(0)
    gate.release.set()
    assert (await early, await late) == ("v1", "v2")
    assert gate.started == 2


async def test_a_caller_that_goes_away_does_not_cancel_the_load_others_wait_for() -> None:
    cache, gate = make_cache(), Gate(Source())
    leaving = asyncio.create_task(cache.get_or_load("k", ["t"], gate.load))
    staying = asyncio.create_task(cache.get_or_load("k", ["t"], gate.load))
    await asyncio.sleep(0)
    leaving.cancel()
    gate.release.set()
    assert await staying == "v1"
    assert leaving.cancelled()
    assert len(cache) == 1


async def test_a_load_overlapping_a_change_of_another_topic_is_still_kept() -> None:
    """Busy caches see changes all the time; only those a load depends on may stop it being kept."""
    cache, gate = make_cache(), Gate(Source())
    reader = asyncio.create_task(cache.get_or_load("k", ["videos:1"], gate.load))
    await gate.entered.wait()
    cache.invalidate(["credit:7:1", "videos:2"])
    gate.release.set()
    await reader
    assert len(cache) == 1


async def test_heavy_values_count_for_their_weight_and_one_past_the_budget_is_not_kept() -> None:
    """A catalog page is worth its rows: many distinct pages cannot grow the cache past its budget."""

    def weigh(value: object) -> int:
        return len(value) if isinstance(value, list) else 1

    cache = MemoryReadCache(FakeClock(), ttl=TTL, max_weight=10, weigh=weigh)

    async def page(size: int) -> list[int]:
        return list(range(size))

    await cache.get_or_load("small", [], Source().load)
    await cache.get_or_load("page-a", [], lambda: page(6))
    await cache.get_or_load("page-b", [], lambda: page(4))  # 1 + 6 + 4 > 10: the oldest goes
    assert len(cache) == 2

    await cache.get_or_load("huge", [], lambda: page(11))  # heavier than the whole budget
    assert len(cache) == 2
    await cache.get_or_load("page-c", [], lambda: page(10))
    assert len(cache) == 1
