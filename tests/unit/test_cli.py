"""The command line refuses what the wiring cannot do; the server entry prepares its process."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from vidplat.entrypoints.asgi import app_factory
from vidplat.entrypoints.cli import main


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
