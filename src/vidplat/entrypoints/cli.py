"""`vidplat serve | worker | migrate`: one command line over the same settings."""

from __future__ import annotations

import asyncio
import logging
import sys

import click
import uvicorn
from dotenv import load_dotenv

from vidplat.adapters.sql.migrate import run_migrations
from vidplat.entrypoints.server import PROTOCOL as HEAD_LIMITED_PROTOCOL
from vidplat.settings import Settings, SettingsError


def _settings() -> Settings:
    load_dotenv(".env")
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


def _check_storage(settings: Settings) -> None:
    """Refuse to start, in one line, when the object store is unreachable or refuses the credentials."""
    if not settings.storage.is_s3:
        return
    from vidplat.adapters.storage.s3 import StoreUnreachable
    from vidplat.bootstrap import check_storage

    try:
        asyncio.run(check_storage(settings))
    except StoreUnreachable as exc:
        raise click.ClickException(f"VIDPLAT_STORAGE_URL {settings.storage.url}: {exc}") from None


@click.group()
def main() -> None:
    """vidplat: a multi-tenant video platform."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP API (embedded mode: also migrates SQLite and runs jobs in-process)."""
    settings = _settings()
    if settings.embedded and workers > 1:
        # Locks, throttling, jobs and cache invalidation live in the one process.
        raise click.UsageError("--workers above 1 needs the production wiring (VIDPLAT_REDIS_URL)")
    _check_storage(settings)
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        run_migrations(settings.database_url)
    if settings.embedded:
        click.echo(f"vidplat (embedded mode, data in {settings.data_dir}) on http://{host}:{port}  docs: /docs")
    uvicorn.run(
        "vidplat.entrypoints.asgi:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        server_header=False,
        proxy_headers=False,
        http=HEAD_LIMITED_PROTOCOL,  # 431 past 32 KiB or 100 header fields
    )


@main.command()
def worker() -> None:
    """Run the SAQ worker: upload processing and the cron schedules (production wiring)."""
    from vidplat.entrypoints.worker import run_worker

    settings = _settings()
    if settings.embedded:
        raise click.ClickException("VIDPLAT_REDIS_URL is not set: in the embedded mode `vidplat serve` runs the jobs")
    _check_storage(settings)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run_worker(settings))


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    settings = _settings()
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    run_migrations(settings.database_url)
    click.echo("database is up to date")


if __name__ == "__main__":
    sys.exit(main())
