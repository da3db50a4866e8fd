"""The composition root: the embedded wiring starts, reports ready and sweeps crash leftovers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from vidplat.adapters.sql.migrate import run_migrations_async
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.cli import main
from vidplat.settings import Settings


async def test_starting_sweeps_unfinished_writes_left_by_a_crash_but_keeps_recent_ones(tmp_path: Path) -> None:
    settings = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    temp = settings.media_dir / ".tmp"
    temp.mkdir(parents=True)
    stale, fresh = temp / "stale.part", temp / "fresh.part"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"y")
    old = time.time() - settings.storage.staging_ttl_seconds - 60
    os.utime(stale, (old, old))
    container = bootstrap(settings)
    await container.start(run_schedules=False)
    try:
        assert not stale.exists()
        assert fresh.exists()
    finally:
        await container.close()


async def test_the_embedded_wiring_reports_every_part_ready(tmp_path: Path) -> None:
    settings = Settings.from_env({"VIDPLAT_DATA_DIR": str(tmp_path)})
    await run_migrations_async(settings.database_url)
    container = bootstrap(settings)
    await container.start(run_schedules=False)
    try:
        results = {name: await check() for name, check in container.checks.items()}
        assert results == {"database": True, "storage": True, "lock": True, "job_queue": True}
    finally:
        await container.close()


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_in_one_line_when_the_bucket_is_unreachable(
    tmp_path: Path, command: str
) -> None:
    env = {
        "VIDPLAT_DATA_DIR": str(tmp_path),
        "VIDPLAT_REDIS_URL": "redis://127.0.0.1:9/0",  # never reached: the store is checked first
        "VIDPLAT_JWT_SECRET": "j" * 40,
        "VIDPLAT_PLAYBACK_SECRET": "p" * 40,
        "VIDPLAT_STORAGE_URL": "s3://vidplat/media",
        "VIDPLAT_S3_ENDPOINT_URL": "http://127.0.0.1:9",  # nothing listens on the discard port
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    result = CliRunner().invoke(main, [command], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: VIDPLAT_STORAGE_URL s3://vidplat/media: the object store is unreachable")
