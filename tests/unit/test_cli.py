"""The command line: one-line errors, operator commands; the server entry prepares its process."""

from __future__ import annotations

import asyncio
import gc
import os
import re
import socket
from importlib.metadata import version
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from vidplat.bootstrap import bootstrap
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.model import Tokens
from vidplat.entrypoints.asgi import app_factory
from vidplat.entrypoints.cli import main
from vidplat.settings import Settings


def test_embedded_serve_refuses_more_than_one_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locks, throttling, jobs and cache invalidation live in the one embedded process."""
    for name in [name for name in os.environ if name.startswith("VIDPLAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer .env

    result = CliRunner().invoke(main, ["serve", "--workers", "2"], env={"VIDPLAT_DATA_DIR": str(tmp_path)})

    assert result.exit_code == 2
    assert "--workers above 1 needs the production wiring" in result.output
    assert not (tmp_path / "vidplat.db").exists()  # refused before anything was set up


def test_a_server_process_freezes_what_it_built_out_of_the_collectors_sight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full collections under load stalled the event loop for over 100 ms walking long-lived objects."""
    for name in [name for name in os.environ if name.startswith("VIDPLAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("VIDPLAT_DATA_DIR", str(tmp_path))
    gc.unfreeze()
    try:
        app = app_factory()
        assert gc.get_freeze_count() > 0
        assert app.state["container"].settings.embedded
    finally:
        gc.unfreeze()


@pytest.fixture
def embedded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """An embedded wiring in tmp_path, with cheap hashing and no developer .env."""
    for name in [name for name in os.environ if name.startswith("VIDPLAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return {
        "VIDPLAT_DATA_DIR": str(tmp_path / "data"),
        "VIDPLAT_ARGON2_TIME_COST": "1",
        "VIDPLAT_ARGON2_MEMORY_KIB": "1024",
        "VIDPLAT_ARGON2_PARALLELISM": "1",
    }


def one_line_error(result: Result) -> str:
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    return lines[0]


def test_a_port_out_of_range_is_refused_in_one_line(embedded_env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "99999"], env=embedded_env)

    assert result.exit_code == 2
    assert "99999 is not in the range 1<=x<=65535" in one_line_error(result)


def test_a_busy_port_is_reported_before_anything_claims_to_serve_it(embedded_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--port", str(port)], env=embedded_env)

    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in one_line_error(result)
    assert not (Path(embedded_env["VIDPLAT_DATA_DIR"]) / "vidplat.db").exists()  # refused before migrating


def test_migrate_against_an_unreachable_database_says_so_in_one_line(embedded_env: dict[str, str]) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = embedded_env | {
        "VIDPLAT_DATABASE_URL": f"postgresql+asyncpg://vidplat:s3cret@127.0.0.1:{port}/vidplat",
        "VIDPLAT_JWT_SECRET": "j" * 40,
        "VIDPLAT_PLAYBACK_SECRET": "p" * 40,
    }

    result = CliRunner().invoke(main, ["migrate"], env=env)

    assert result.exit_code == 1
    line = one_line_error(result)
    assert f"cannot migrate postgresql+asyncpg://vidplat:***@127.0.0.1:{port}/vidplat" in line
    assert "s3cret" not in line


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(main, ["--version"])

    assert result.exit_code == 0
    assert result.output.strip() == f"vidplat {version('vidplat')}"


def test_every_option_of_every_command_says_what_it_does() -> None:
    for name, command in main.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.opts}"


def test_create_organization_prints_a_working_initial_password_once(embedded_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["create-organization", "--name", "Acme Films", "--admin-email", "Boss@Acme.test"], env=embedded_env
    )

    assert result.exit_code == 0, result.output
    assert "slug acme-films" in result.output
    password = re.search(r"initial password \(shown only now\): (\S+)", result.output)
    assert password is not None, result.output
    assert result.output.count(password.group(1)) == 1
    tokens = asyncio.run(_log_in(embedded_env, "acme-films", "boss@acme.test", password.group(1)))
    assert tokens.access_token


def test_create_organization_refuses_a_taken_name_in_one_line(embedded_env: dict[str, str]) -> None:
    args = ["create-organization", "--name", "Acme", "--admin-email", "a@acme.test"]
    assert CliRunner().invoke(main, args, env=embedded_env).exit_code == 0

    again = CliRunner().invoke(main, args, env=embedded_env)

    assert again.exit_code == 1
    assert "organization_name_taken" in one_line_error(again)


async def _log_in(env: dict[str, str], organization: str, email: str, password: str) -> Tokens:
    container = bootstrap(Settings.from_env(env))
    try:
        return await container.use_cases.login(LoginCommand(organization=organization, email=email, password=password))
    finally:
        await container.close()
