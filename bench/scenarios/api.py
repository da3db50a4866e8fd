"""S5: an authenticated list against the framework ceiling; S6: login cost and event-loop health under it."""

from __future__ import annotations

import asyncio

from bench.context import Bench
from bench.results import Row, median
from bench.scenarios.pairs import alternate, errors_note
from bench.wrk import Load, run_wrk

LIST_SHARE = 0.4
LIST_P99_MS = 30
HEALTH_P99_MS = 50


async def s5(bench: Bench) -> list[Row]:
    member = bench.world.members[0].token
    listing = Load(bench.base + "/api/v1/videos?limit=20", "get.lua", (member,), 32, 2)
    health = Load(bench.base + "/health", "get.lua", ("",), 32, 2)
    mine, ceiling = await alternate(bench, listing, health, bench.profile.api_s)
    rps, ceiling_rps = median([r.rps for r in mine]), median([r.rps for r in ceiling])
    p99 = median([r.p99_ms for r in mine])
    ratio = rps / ceiling_rps
    clean = not any(r.errors for r in mine)
    return [
        Row(
            scenario="S5",
            what="GET /api/v1/videos -c32",
            value=rps,
            unit="req/s",
            reference=f"/health {ceiling_rps:,.0f} req/s",
            ratio=ratio,
            target=">= 40% of /health",
            passed=ratio >= LIST_SHARE and clean,
            runs=[r.rps for r in mine],
            note=errors_note("list", mine),
        ),
        Row(
            scenario="S5",
            what="GET /api/v1/videos -c32 p99",
            value=p99,
            unit="ms",
            reference=f"/health {median([r.p99_ms for r in ceiling]):.1f} ms",
            target=f"< {LIST_P99_MS} ms",
            passed=p99 < LIST_P99_MS and clean,
            runs=[r.p99_ms for r in mine],
        ),
    ]


async def s6(bench: Bench) -> list[Row]:
    """Logins at -c8 while /health is probed: hashing must stay off the event loop."""
    world = bench.world
    login = Load(
        bench.base + "/api/v1/auth/login", "login.lua", (world.org_id, world.members[0].email, world.password), 8, 1
    )
    # Paced, not flat out: a saturating /health load would measure CPU sharing, not event-loop blocking.
    health = Load(bench.base + "/health", "probe.lua", (), 4, 1)
    idle = await run_wrk(health, bench.profile.warmup_s)  # also the warm-up; its p99 is the reference
    await run_wrk(login, bench.profile.warmup_s)
    logins, probes = [], []
    for _ in range(bench.profile.runs):
        one, other = await asyncio.gather(run_wrk(login, bench.profile.api_s), run_wrk(health, bench.profile.api_s))
        logins.append(one)
        probes.append(other)
    cost = _argon2(bench)
    p99 = median([r.p99_ms for r in probes])
    return [
        Row(
            scenario="S6",
            what="login -c8 (argon2id)",
            value=median([r.rps for r in logins]),
            unit="req/s",
            reference=cost,
            passed=False if any(r.errors for r in logins) else None,
            runs=[r.rps for r in logins],
            note=errors_note("login", logins),
        ),
        Row(
            scenario="S6",
            what="/health p99 during logins (paced probe)",
            value=p99,
            unit="ms",
            reference=f"idle {idle.p99_ms:.1f} ms",
            target=f"< {HEALTH_P99_MS} ms",
            passed=p99 < HEALTH_P99_MS and not any(r.errors for r in probes),
            runs=[r.p99_ms for r in probes],
        ),
    ]


def _argon2(bench: Bench) -> str:
    """The cost the server runs with (the settings' defaults: the bench sets no VIDPLAT_ARGON2_*)."""
    auth = bench.stack.settings.auth
    return f"t={auth.argon2_time_cost} m={auth.argon2_memory_kib // 1024} MiB p={auth.argon2_parallelism}"
