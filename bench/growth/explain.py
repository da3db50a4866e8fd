"""`python -m bench.growth.explain [full|quick]`: the plan of every statement S13 runs.

Each read of the scenario runs once at the large size with the read cache off, then the expiry of
every lapsed subscription; their statements are recorded as SQLAlchemy sends them, and each
distinct one runs again under EXPLAIN (ANALYZE, BUFFERS) with the same parameters, in order, on a
second copy of the data that nothing has changed, in a transaction rolled back: the plans are those
of the code as it is, not of a copy of its SQL.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import sys
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bench.growth.scenario import REQUESTS, Request, _callers, _container
from bench.growth.seed import LARGE, QUICK_LARGE
from bench.growth.templates import copy_of, drop, sqlalchemy_url

# Session plumbing, not the request's query.
_SKIPPED = ("EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "SET ", "SHOW ", "select pg_catalog.", "select current_schema")
_EXPIRY: Request = lambda c, _: c.use_cases.expire_subscriptions  # noqa: E731 - one more row of REQUESTS' shape
_WIDTH = 240  # plan lines past this are the same IN lists spelled out
_LISTS = re.compile(r"(\$\d+::\w+, ){3,}")  # a batch's IN list of hundreds of parameters, shown as ...


async def explain(large: bool) -> None:
    size = LARGE if large else QUICK_LARGE
    ran, planned = (f"vidplat_bench_explain_{secrets.token_hex(4)}" for _ in range(2))
    for database in (ran, planned):
        await copy_of(size, database)
    plans = create_async_engine(sqlalchemy_url(planned))
    try:
        callers = await _callers(ran)
        await _callers(planned)  # the same planner settings
        container = _container(ran)
        container.cache.suspend()
        statements: dict[str, Any] = {}  # the first parameters of each distinct statement

        def record(_c: object, _k: object, statement: str, parameters: Any, _x: object, many: bool) -> None:
            if not statement.lstrip().startswith(_SKIPPED):
                statements.setdefault(statement, parameters[0] if many else parameters)  # one row of a batch

        event.listen(container.engine.sync_engine, "before_cursor_execute", record)
        try:
            for what, request in [*((w, r) for w, r, _ in REQUESTS), ("expiry of the lapsed subscriptions", _EXPIRY)]:
                statements.clear()
                await request(container, callers)()
                print(f"\n## {what} ({size.name})")
                await _explain(plans, statements)
        finally:
            await container.close()
    finally:
        await plans.dispose()
        for database in (ran, planned):
            await drop(database)


async def _explain(plans: AsyncEngine, statements: dict[str, Any]) -> None:
    """The statements in order in one transaction, rolled back; twice, the second shown: the first
    warms the cache (the copy is cold) as the scenario's loops do."""
    for shown in (False, True):
        async with plans.connect() as connection:  # closed uncommitted: rolled back
            for statement, parameters in statements.items():
                plan = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                if shown:
                    print(f"\n{_LISTS.sub('..., ', ' '.join(statement.split()))}\n")
                    print("\n".join(f"    {_cut(line)}" for (line,) in plan))


def _cut(line: str) -> str:
    return line if len(line) <= _WIDTH else f"{line[:_WIDTH]} ..."


if __name__ == "__main__":
    asyncio.run(explain(large=sys.argv[1:] != ["quick"]))
