"""`vidplat migrate` against a real PostgreSQL that refuses the configured role: one line, not a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import make_url

from vidplat.entrypoints.cli import main


def test_migrate_with_an_unknown_database_role_says_so_in_one_line(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in os.environ if name.startswith("VIDPLAT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer .env
    url = make_url(postgres_url).set(username="no_such_role").render_as_string(hide_password=False)
    env = {"VIDPLAT_DATABASE_URL": url, "VIDPLAT_JWT_SECRET": "j" * 40, "VIDPLAT_PLAYBACK_SECRET": "p" * 40}

    result = CliRunner().invoke(main, ["migrate"], env=env)

    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: cannot migrate postgresql+asyncpg://no_such_role@")
    assert lines[0].endswith('role "no_such_role" does not exist')
