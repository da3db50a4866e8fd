"""`vidplat serve | worker | migrate | create-organization`: one command line over the same settings.

Every failure the operator can fix is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Sequence
from typing import Any

import click
import uvicorn
from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from vidplat.adapters.sql.migrate import run_migrations
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.billing.queries import OrganizationOverview
from vidplat.domain.errors import DomainError, InvalidInput
from vidplat.entrypoints import serving
from vidplat.entrypoints.logs import configure_logging
from vidplat.entrypoints.server import PROTOCOL as HEAD_LIMITED_PROTOCOL
from vidplat.settings import Settings, SettingsError


class _OneLineErrors(click.Group):
    """Usage and runtime errors as one `Error: ...` line, without click's usage banner."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


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


def _migrate(settings: Settings) -> None:
    if settings.uses_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        run_migrations(settings.database_url)
    except (SQLAlchemyError, OSError) as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        raise click.ClickException(f"cannot migrate {where}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """The driver's own message (`role "x" does not exist`), not SQLAlchemy's wrapping of it."""
    original = getattr(exc, "orig", None) or exc
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


@click.group(cls=_OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="vidplat", prog_name="vidplat", message="%(prog)s %(version)s")
def main() -> None:
    """vidplat: a multi-tenant video platform. Settings come from VIDPLAT_* variables or ./.env."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port to listen on.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Server processes; above 1 needs the production wiring (VIDPLAT_REDIS_URL).",
)
def serve(host: str, port: int, workers: int) -> None:
    """Run the HTTP API (embedded mode: also migrates SQLite and runs jobs in-process)."""
    from vidplat.adapters.metrics import shared_between

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.embedded and workers > 1:
        # Locks, throttling, jobs and cache invalidation live in the one process.
        raise click.UsageError("--workers above 1 needs the production wiring (VIDPLAT_REDIS_URL)")
    try:
        serving.check_port(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    _check_storage(settings)
    if settings.uses_sqlite:
        _migrate(settings)
    if settings.embedded:
        click.echo(f"vidplat (embedded mode, data in {settings.data_dir}) on http://{host}:{port}  docs: /docs")
    with shared_between(workers):
        serving.run(
            uvicorn.Config(
                serving.APP,
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level=settings.log_level.lower(),
                log_config=None,  # uvicorn's lines go through our handler and format (entrypoints/logs.py)
                server_header=False,
                # Behind a reverse proxy, its X-Forwarded-For names the client (whom throttling counts).
                proxy_headers=settings.forwarded_allow_ips is not None,
                forwarded_allow_ips=settings.forwarded_allow_ips,
                http=HEAD_LIMITED_PROTOCOL,  # 431 past 32 KiB or 100 header fields
                timeout_worker_healthcheck=serving.WORKER_HEALTHCHECK_SECONDS,
            )
        )


@main.command()
def worker() -> None:
    """Run the SAQ worker: upload processing and the cron schedules (production wiring)."""
    from vidplat.entrypoints.worker import run_worker

    settings = _settings()
    if settings.embedded:
        raise click.ClickException("VIDPLAT_REDIS_URL is not set: in the embedded mode `vidplat serve` runs the jobs")
    _check_storage(settings)
    configure_logging(settings.log_level, settings.log_format)
    asyncio.run(run_worker(settings))


@main.command()
def migrate() -> None:
    """Upgrade the database schema to the latest revision."""
    _migrate(_settings())
    click.echo("database is up to date")


@main.command("create-organization")
@click.option("--name", required=True, help="The organization's name; its login slug is derived from it.")
@click.option("--admin-email", required=True, help="Email of its first admin, who gets a generated password.")
def create_organization(name: str, admin_email: str) -> None:
    """Create an organization with its first admin and a TRIAL plan (works with VIDPLAT_SIGNUP=closed)."""
    settings = _settings()
    if settings.uses_sqlite:
        _migrate(settings)
    password = secrets.token_urlsafe(18)
    try:
        created = asyncio.run(
            _sign_up(settings, SignUpCommand(name=name, admin_email=admin_email, admin_password=password))
        )
    except DomainError as exc:
        fields = "; ".join(f"{f.field}: {f.message}" for f in exc.errors) if isinstance(exc, InvalidInput) else ""
        raise click.ClickException(f"{exc.code}: {fields or exc.detail}") from None
    except (SQLAlchemyError, OSError) as exc:
        raise click.ClickException(f"cannot reach the database: {_first_line(exc)}") from None
    org = created.organization
    click.echo(f"organization {org.name!r} created: slug {org.slug}, id {org.id}")
    click.echo(f"admin {admin_email.strip().lower()}, initial password (shown only now): {password}")


async def _sign_up(settings: Settings, cmd: SignUpCommand) -> OrganizationOverview:
    from vidplat.bootstrap import bootstrap  # the whole wiring, only for the command that needs it

    container = bootstrap(settings)
    try:
        return await container.use_cases.sign_up(cmd)
    finally:
        await container.close()


if __name__ == "__main__":
    main()
