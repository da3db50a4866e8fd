"""Schema migrations for `vidplat migrate` and the embedded `vidplat serve`.

The functions block: env.py runs its own event loop (asyncio.run) to drive the async
engine. From synchronous code call them directly; from inside a running event loop use
`run_migrations_async`, which runs the same upgrade in a worker thread.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

# Shipped inside the package, so an installed wheel can migrate as well as a source checkout.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    if not (MIGRATIONS / "env.py").is_file():
        raise RuntimeError(f"Alembic migrations not found in {MIGRATIONS}: the vidplat installation is incomplete.")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolates %
    return config


def run_migrations(url: str, revision: str = "head") -> None:
    """Upgrade the database at url to the revision."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Downgrade the database at url to the revision ("base" removes every table)."""
    command.downgrade(alembic_config(url), revision)


async def run_migrations_async(url: str, revision: str = "head") -> None:
    """run_migrations for callers inside an event loop, which env.py's own loop cannot share."""
    await asyncio.to_thread(run_migrations, url, revision)
