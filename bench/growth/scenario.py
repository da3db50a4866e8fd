"""S13: the same reads at the small and the large size, read cache off and on; then the expiry job.

The reads call the use cases in process (PostgreSQL adapters, no HTTP), so the figures are what
the data costs, without the framework's share. Uncached, one client calls each in a loop for a
while; cached, four do, and the cache's TTL is 1 s: every key is reloaded many times during a
measurement, which is what used to stall the readers queued on it.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from bench.config import Profile
from bench.growth.measure import CLIENTS, Latency, latency
from bench.growth.seed import LARGE, QUICK_LARGE, SEARCH_WORDS, SMALL, Size
from bench.growth.templates import copy_of, drop, dsn, sqlalchemy_url
from bench.results import Row
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.accounts.users import UserQuery
from vidplat.domain.pagination import Cursor, PageRequest
from vidplat.domain.videos.catalog import VideoQuery
from vidplat.settings import Settings

RATIO_TARGET = 2.0  # an uncached large-size p50 within 2x of the small size's
CACHED_P99_MS = 30.0
EXPIRY_S = 60.0
WORD = f"word{SEARCH_WORDS // 3:02}"


def uuid_of(label: str) -> UUID:
    """The ids the seed derives: md5(label || number)::uuid."""
    return UUID(hashlib.md5(label.encode()).hexdigest())  # noqa: S324 - an id, not a digest of secrets


@dataclass(frozen=True, slots=True)
class Callers:
    admin: Principal
    member: Principal  # also the one with BUSY_USER_CREDITS credits
    deep_offset: int  # 40 items before the end of the member's catalog
    deep_cursor: Cursor  # the same place, as a cursor


Figures = dict[tuple[str, bool, str], Latency]  # (size, cached, what)
Request = Callable[[Container, Callers], Callable[[], Awaitable[object]]]


def _walker(container: Container, callers: Callers) -> Callable[[], Awaitable[object]]:
    """Each call the next page by cursor (back to the first at the end): a new key every time, so
    with the cache on every page is a miss while the total, cached per change, is not counted."""
    after: list[Cursor | None] = [None]

    async def next_page() -> object:
        page = await container.use_cases.list_videos(callers.member, VideoQuery(page=PageRequest(after=after[0])))
        after[0] = page.next_cursor
        return page

    return next_page


REQUESTS: list[tuple[str, Request, bool]] = [  # (what, the call, whether the read cache serves it)
    (
        "videos, first page",
        lambda c, w: lambda: c.use_cases.list_videos(w.member, VideoQuery(page=PageRequest())),
        True,
    ),
    (
        "videos, deep page by offset",
        lambda c, w: lambda: c.use_cases.list_videos(w.member, VideoQuery(page=PageRequest(offset=w.deep_offset))),
        True,
    ),
    (
        "videos, deep page by cursor",
        lambda c, w: lambda: c.use_cases.list_videos(w.member, VideoQuery(page=PageRequest(after=w.deep_cursor))),
        True,
    ),
    (
        "videos q= title search",
        lambda c, w: lambda: c.use_cases.list_videos(w.member, VideoQuery(page=PageRequest(), title=WORD)),
        True,
    ),
    ("videos, walk by cursor (page misses)", _walker, True),
    ("users, first page", lambda c, w: lambda: c.use_cases.list_users(w.admin, UserQuery(page=PageRequest())), False),
    (
        "users q= email search",
        lambda c, w: lambda: c.use_cases.list_users(w.admin, UserQuery(page=PageRequest(), email=WORD)),
        False,
    ),
    ("points ledger, busy user", lambda c, w: lambda: c.use_cases.list_my_points(w.member, PageRequest()), False),
]


async def s13(profile: Profile, say: Callable[[str], None]) -> list[Row]:
    large = LARGE if profile.name == "full" else QUICK_LARGE
    sizes = (SMALL, large)
    seconds = max(1.0, profile.api_s / 2)
    databases = {size.name: f"vidplat_bench_s13_{secrets.token_hex(4)}" for size in sizes}
    try:
        callers: dict[str, Callers] = {}
        for size in sizes:
            started = time.perf_counter()
            seeded = await copy_of(size, databases[size.name])
            say(
                f"S13 {size.name}: {'seeded the template and copied it' if seeded else 'copied the template'} "
                f"in {time.perf_counter() - started:.0f} s"
            )
            callers[size.name] = await _callers(databases[size.name])
        figures = await _measure(sizes, databases, callers, seconds)
        expiry: dict[str, tuple[int, float]] = {}
        for size in sizes:
            expiry[size.name] = expired, took = await _expire(databases[size.name])
            say(f"S13 {size.name}: {expired:,} lapsed subscriptions expired in {took:.1f} s")
    finally:
        for database in databases.values():
            await drop(database)
    return _rows(figures, expiry, large)


async def _measure(
    sizes: tuple[Size, ...], databases: dict[str, str], callers: dict[str, Callers], seconds: float
) -> Figures:
    """Each request at every size back to back: on a shared machine whose load comes and goes, the
    sizes of one request are measured under about the same load, so their ratio means something."""
    figures: Figures = {}
    for cached in (False, True):
        containers = {size.name: _container(databases[size.name]) for size in sizes}
        try:
            for container in containers.values():
                if not cached:
                    container.cache.suspend()
            for what, request, _ in REQUESTS:
                for size in sizes:
                    # Uncached, one caller: what the data costs, not what queueing in this process adds.
                    call = request(containers[size.name], callers[size.name])
                    figures[(size.name, cached, what)] = await latency(call, seconds, CLIENTS if cached else 1)
        finally:
            for container in containers.values():
                await container.close()
    return figures


def _container(database: str) -> Container:
    # The embedded adapters for locks and jobs (nothing here takes either), PostgreSQL for the data.
    env = {
        "VIDPLAT_DATA_DIR": tempfile.mkdtemp(prefix="vidplat-s13-"),
        "VIDPLAT_DATABASE_URL": sqlalchemy_url(database),
        "VIDPLAT_JWT_SECRET": secrets.token_urlsafe(32),
        "VIDPLAT_PLAYBACK_SECRET": secrets.token_urlsafe(32),
        "VIDPLAT_CACHE_TTL_SECONDS": "1",
    }
    return bootstrap(Settings.from_env(env))


async def _callers(database: str) -> Callers:
    org = uuid_of("org0")
    conn = await asyncpg.connect(dsn(database))
    try:
        # The README's planner setting for SSDs: counts of a large organization use its index.
        await conn.execute(f'ALTER DATABASE "{database}" SET random_page_cost = 1.1')
        total = await conn.fetchval(
            "SELECT count(*) FROM videos WHERE organization_id = $1 AND deleted_at IS NULL AND status = 'ready'", org
        )
        deep = max(total - 40, 0)
        at, id_ = await conn.fetchrow(
            "SELECT created_at, id FROM videos WHERE organization_id = $1 AND deleted_at IS NULL AND status = 'ready'"
            " ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1",
            org,
            max(deep - 1, 0),
        )
    finally:
        await conn.close()
    return Callers(
        admin=Principal(user_id=uuid_of("user0"), organization_id=org, role=Role.ADMIN),
        member=Principal(user_id=uuid_of("user1"), organization_id=org, role=Role.MEMBER),
        deep_offset=deep,
        deep_cursor=Cursor((at,), id_),
    )


async def _expire(database: str) -> tuple[int, float]:
    container = _container(database)
    try:
        started = time.perf_counter()
        expired = await container.use_cases.expire_subscriptions()
        return expired, time.perf_counter() - started
    finally:
        await container.close()


def _rows(
    figures: dict[tuple[str, bool, str], Latency], expiry: dict[str, tuple[int, float]], large: Size
) -> list[Row]:
    rows: list[Row] = []
    for what, _, cacheable in REQUESTS:
        small, big = figures[(SMALL.name, False, what)], figures[(large.name, False, what)]
        ratio = big.p50_ms / small.p50_ms
        rows.append(
            Row(
                scenario="S13",
                what=f"{what}, uncached {large.name} p50",
                value=big.p50_ms,
                unit="ms",
                reference=f"small {small.p50_ms:.2f} ms",
                ratio=ratio,
                target=f"<= {RATIO_TARGET:.0f}x small",
                passed=ratio <= RATIO_TARGET,
                note=f"{big.per_second:,.0f} calls/s, p99 {big.p99_ms:.1f} ms",
            )
        )
        if cacheable:
            worst = max(figures[(SMALL.name, True, what)].p99_ms, figures[(large.name, True, what)].p99_ms)
            rows.append(
                Row(
                    scenario="S13",
                    what=f"{what}, cached p99 (both sizes)",
                    value=worst,
                    unit="ms",
                    reference=f"small {figures[(SMALL.name, True, what)].p99_ms:.2f} ms",
                    target=f"< {CACHED_P99_MS:.0f} ms",
                    passed=worst < CACHED_P99_MS,
                    note=f"{large.name} p50 {figures[(large.name, True, what)].p50_ms:.2f} ms",
                )
            )
    expired, seconds = expiry[large.name]
    rows.append(
        Row(
            scenario="S13",
            what=f"expiry of {expired:,} lapsed subscriptions",
            value=seconds,
            unit="s",
            reference=f"small: {expiry[SMALL.name][0]} in {expiry[SMALL.name][1]:.2f} s",
            target=f"< {EXPIRY_S:.0f} s" + ("" if large is LARGE else " (for 100k)"),
            passed=seconds < EXPIRY_S * (expired / LARGE.lapsing if large is not LARGE else 1),
        )
    )
    return rows
