"""LocalScratchSpace: one fresh directory per name for the block; what a killed process left is swept."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

from vidplat.adapters.local.scratch import LocalScratchSpace


async def test_a_directory_is_empty_for_its_block_and_gone_after_it(tmp_path: Path) -> None:
    scratch = LocalScratchSpace(tmp_path / "scratch")
    async with scratch.directory("orgs/1/videos/2/3.hls/") as first:
        (first / "240p").mkdir()
        (first / "240p" / "seg_00000.m4s").write_bytes(b"segment")
    assert not first.exists()
    async with scratch.directory("orgs/1/videos/2/3.hls/") as again, scratch.directory("another") as other:
        assert again == first  # a retry of the same upload works in the same place
        assert other != again
        assert list(again.iterdir()) == []


async def test_a_retry_clears_what_a_killed_attempt_left(tmp_path: Path) -> None:
    scratch = LocalScratchSpace(tmp_path / "scratch")
    async with scratch.directory("upload") as directory:
        left = directory
    left.mkdir(parents=True)
    (left / "half.m4s").write_bytes(b"half a segment")  # as if the process died inside the block

    async with scratch.directory("upload") as directory:
        assert list(directory.iterdir()) == []


async def test_the_sweep_removes_only_directories_nothing_wrote_to_lately(tmp_path: Path) -> None:
    root = tmp_path / "scratch"
    stale, live = root / "stale", root / "live"
    for directory in (stale, live):
        (directory / "240p").mkdir(parents=True)
        (directory / "240p" / "seg_00000.m4s").write_bytes(b"segment")
    two_hours_ago = time.time() - 7200
    for path in (stale, stale / "240p", stale / "240p" / "seg_00000.m4s", live, live / "240p"):
        os.utime(path, (two_hours_ago, two_hours_ago))  # live's newest segment is fresh

    assert await LocalScratchSpace(root).sweep(timedelta(hours=1)) == 1

    assert not stale.exists()
    assert (live / "240p" / "seg_00000.m4s").exists()
    assert await LocalScratchSpace(tmp_path / "absent").sweep(timedelta(hours=1)) == 0
