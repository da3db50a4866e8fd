"""Read caches of separate processes stay in step over Redis pub/sub, and read through while they cannot."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.clock import ShiftableClock
from tests.integration.conftest import Platform
from tests.unit.fakes import FakeClock
from vidplat.adapters.local.cache import MemoryReadCache
from vidplat.adapters.redis.invalidations import RedisInvalidations
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.errors import InvalidToken
from vidplat.settings import Settings

PASSWORD = "correct horse battery"
TTL = timedelta(hours=1)  # only invalidations drop values here
WITHIN_SECONDS = 10  # a bound for a message on loopback, not a speed target


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(WITHIN_SECONDS):
        while not condition():  # noqa: ASYNC110 - the condition is another process's doing
            await asyncio.sleep(0.01)


Pair = tuple[RedisInvalidations, MemoryReadCache, MemoryReadCache]


class Counter:
    def __init__(self) -> None:
        self.reads = 0

    async def load(self) -> int:
        self.reads += 1
        return self.reads


@pytest.fixture
async def pair(client: Redis, prefix: str) -> AsyncIterator[Pair]:
    """Two processes' caches on one channel: the first one's publisher, and both caches, listening."""
    caches = [MemoryReadCache(FakeClock(), ttl=TTL, max_weight=100, active=False) for _ in range(2)]
    buses = [RedisInvalidations(client, f"{prefix}:cache", cache) for cache in caches]
    listeners = [asyncio.create_task(bus.listen()) for bus in buses]
    await eventually(lambda: all(cache.active for cache in caches))
    yield buses[0], caches[0], caches[1]
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)


async def test_a_change_published_in_one_process_drops_the_value_cached_in_another(
    pair: Pair,
) -> None:
    bus, _, other = pair
    source = Counter()
    await other.get_or_load("catalog", ["videos:1"], source.load)
    await other.get_or_load("unrelated", ["videos:2"], source.load)
    assert len(other) == 2

    await bus.publish(["videos:1", "user:9"])

    await eventually(lambda: len(other) == 1)
    assert await other.get_or_load("catalog", ["videos:1"], source.load) == 3
    assert await other.get_or_load("unrelated", ["videos:2"], source.load) == 2


async def test_the_publisher_drops_its_own_copy_before_the_message_goes_out(
    pair: Pair,
) -> None:
    bus, own, _ = pair
    source = Counter()
    await own.get_or_load("catalog", ["videos:1"], source.load)
    publishing = asyncio.create_task(bus.publish(["videos:1"]))
    await asyncio.sleep(0)  # the publish is under way, its round trip not yet answered
    assert len(own) == 0
    await publishing


async def test_a_lost_subscription_suspends_the_cache_until_it_is_back(pair: Pair, client: Redis) -> None:
    _, _, other = pair
    source = Counter()
    await other.get_or_load("catalog", ["videos:1"], source.load)

    # Messages published while the connection is down are lost: nothing cached may survive it.
    await client.client_kill_filter(_type="pubsub")

    await eventually(lambda: not other.active)
    assert len(other) == 0
    await eventually(lambda: other.active)
    await other.get_or_load("catalog", ["videos:1"], source.load)
    await other.get_or_load("catalog", ["videos:1"], source.load)
    assert source.reads == 2


async def test_a_publish_that_cannot_reach_redis_still_invalidates_locally_and_does_not_raise() -> None:
    unreachable = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    cache = MemoryReadCache(FakeClock(), ttl=TTL, max_weight=10)
    source = Counter()
    await cache.get_or_load("catalog", ["videos:1"], source.load)
    try:
        await RedisInvalidations(unreachable, "nowhere", cache).publish(["videos:1"])
    finally:
        await unreachable.aclose()
    assert len(cache) == 0


# --- two API processes on one database --------------------------------------------------


@pytest.fixture
async def two_processes(
    postgres_database: str, redis_service: tuple[str, str], tmp_path: Path
) -> AsyncIterator[tuple[Container, Container]]:
    url, session_prefix = redis_service
    settings = Settings.from_env(
        {
            "VIDPLAT_DATA_DIR": str(tmp_path),
            "VIDPLAT_DATABASE_URL": postgres_database,
            "VIDPLAT_REDIS_URL": url,
            "VIDPLAT_REDIS_PREFIX": f"{session_prefix}:{secrets.token_hex(4)}",
            "VIDPLAT_JWT_SECRET": secrets.token_urlsafe(32),
            "VIDPLAT_PLAYBACK_SECRET": secrets.token_urlsafe(32),
            "VIDPLAT_ARGON2_TIME_COST": "1",
            "VIDPLAT_ARGON2_MEMORY_KIB": "8",
            "VIDPLAT_ARGON2_PARALLELISM": "1",
        }
    )
    clock = ShiftableClock()
    containers = [bootstrap(settings, clock=clock) for _ in range(2)]
    for container in containers:
        await container.start(run_schedules=False)
    try:
        await eventually(lambda: all(c.cache.active for c in containers))
        yield containers[0], containers[1]
    finally:
        for container in containers:
            await container.close()


async def test_a_logout_in_one_process_is_honoured_by_another_that_had_cached_the_session(
    two_processes: tuple[Container, Container],
) -> None:
    first, second = two_processes
    org = await first.use_cases.sign_up(
        SignUpCommand(name=f"Cache Co {secrets.token_hex(3)}", admin_email="a@cache.test", admin_password=PASSWORD)
    )
    login = LoginCommand(organization=org.organization.slug, email="a@cache.test", password=PASSWORD)
    tokens = await first.use_cases.login(login)
    principal = await second.use_cases.authenticate(tokens.access_token)
    await second.use_cases.authenticate(tokens.access_token)
    assert len(second.cache) == 1

    await first.use_cases.logout(principal)

    await eventually(lambda: len(second.cache) == 0)
    with pytest.raises(InvalidToken):
        await second.use_cases.authenticate(tokens.access_token)


async def test_a_process_that_caches_no_reads_keeps_no_subscription_and_reads_through(
    platform: Platform, client: Redis
) -> None:
    """The SAQ worker's start: jobs read each row once, so it is not worth a connection per process."""
    channel = f"{platform.redis_prefix}:cache"

    async def subscribers() -> int:
        [(_, count)] = await client.pubsub_numsub(channel)
        return int(count)

    api = await platform.started()
    await eventually(lambda: api.cache.active)
    assert await subscribers() == 1

    worker = platform.container()
    await worker.start(run_schedules=False, cache_reads=False)
    try:
        listeners = [t for t in asyncio.all_tasks() if t.get_name() == "cache invalidations"]
        assert len(listeners) == 1  # the API's: the worker started none
        assert await subscribers() == 1
        assert not worker.cache.active  # off: every read goes to the database
    finally:
        await worker.close()
