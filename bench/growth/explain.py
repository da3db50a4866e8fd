"""`python -m bench.growth.explain [full|quick]`: the plan of every statement S13's reads run.

Each request of the scenario runs once at the large size with the read cache off, its statements
are recorded as SQLAlchemy sends them, and each is run again under EXPLAIN (ANALYZE, BUFFERS) with
the same parameters: the plans are those of the code as it is, not of a copy of its SQL.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from typing import Any

from sqlalchemy import event

from bench.growth.scenario import REQUESTS, _callers, _container
from bench.growth.seed import LARGE, QUICK_LARGE
from bench.growth.templates import copy_of, drop

# Session plumbing, not the request's query.
_SKIPPED = ("EXPLAIN", "BEGIN", "COMMIT", "ROLLBACK", "SET ", "SHOW ", "select pg_catalog.", "select current_schema")


async def explain(large: bool) -> None:
    size = LARGE if large else QUICK_LARGE
    database = f"vidplat_bench_explain_{secrets.token_hex(4)}"
    await copy_of(size, database)
    try:
        callers = await _callers(database)
        container = _container(database)
        container.cache.suspend()
        statements: list[tuple[str, Any]] = []

        def record(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
            if not statement.lstrip().startswith(_SKIPPED):
                statements.append((statement, parameters))

        event.listen(container.engine.sync_engine, "before_cursor_execute", record)
        try:
            for what, request, _ in REQUESTS:
                statements.clear()
                await request(container, callers)()
                print(f"\n## {what} ({size.name})")
                for statement, parameters in statements.copy():  # EXPLAIN runs through the listener too
                    async with container.engine.connect() as connection:
                        plan = await connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                        print(f"\n{' '.join(statement.split())}\n")
                        print("\n".join(f"    {line}" for (line,) in plan))
        finally:
            event.remove(container.engine.sync_engine, "before_cursor_execute", record)
            await container.close()
    finally:
        await drop(database)


if __name__ == "__main__":
    asyncio.run(explain(large=sys.argv[1:] != ["quick"]))
