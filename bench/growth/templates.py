"""Seeded sizes kept between runs as template databases: seeding the large size once costs a minute
or two, copying it (CREATE DATABASE ... TEMPLATE) a few seconds."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic.script import ScriptDirectory

from bench.config import POSTGRES_URL
from bench.growth.seed import Size, seed, statements
from vidplat.adapters.sql.migrate import alembic_config, run_migrations_async

PREFIX = "vidplat_bench_growth_"


def dsn(database: str) -> str:
    return urlunsplit(urlsplit(POSTGRES_URL)._replace(path=f"/{database}"))


def sqlalchemy_url(database: str) -> str:
    return dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


def template_name(size: Size) -> str:
    """Named after the schema head, and a digest of every revision file and of the seed: a new or
    edited revision, or another seed, seeds afresh."""
    script = ScriptDirectory.from_config(alembic_config(POSTGRES_URL))
    chain = [Path(r.path).read_text() for r in script.walk_revisions()]
    digest = hashlib.sha256("\n".join([*chain, *statements(size)]).encode()).hexdigest()[:8]
    return f"{PREFIX}{size.name.replace('-', '_')}_{script.get_current_head()}_{digest}"


async def copy_of(size: Size, database: str) -> bool:
    """Create `database` as a copy of the size's template, seeding the template first if needed.

    True when the template had to be seeded in this run.
    """
    template = template_name(size)
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        seeded = not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", template)
        if seeded:
            await _seed_template(admin, size, template)
        await admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
    finally:
        await admin.close()
    return seeded


async def _seed_template(admin: asyncpg.Connection, size: Size, template: str) -> None:
    building = f"{template[:50]}_building"
    await admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
    # Older templates (another schema head or seed) are dead weight on the shared server.
    for (old,) in await admin.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE $1 AND datname <> $2", f"{PREFIX}%", template
    ):
        if old.startswith(f"{PREFIX}{size.name.replace('-', '_')}_"):
            await admin.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{building}"')
    await run_migrations_async(sqlalchemy_url(building))
    await seed(dsn(building), size)
    conn = await asyncpg.connect(dsn(building))
    try:
        await conn.execute("VACUUM (ANALYZE)")  # the visibility map makes the counts index-only
    finally:
        await conn.close()
    # Renamed only once complete: an interrupted seed never passes for a template.
    await admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')


async def drop(database: str) -> None:
    admin = await asyncpg.connect(POSTGRES_URL)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await admin.close()
