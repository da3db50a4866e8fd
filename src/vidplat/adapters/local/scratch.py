"""ScratchSpace on a local directory: the media tools' working directories, one per name."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path


class LocalScratchSpace:
    """Directories under root named by a digest of their name (any string is a safe name)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    @contextlib.asynccontextmanager
    async def directory(self, name: str) -> AsyncIterator[Path]:
        path = self._root / hashlib.sha256(name.encode()).hexdigest()[:32]
        await asyncio.to_thread(_fresh, path)
        try:
            yield path
        finally:
            await asyncio.to_thread(shutil.rmtree, path, True)

    async def sweep(self, older_than: timedelta) -> int:
        """Remove directories nothing has written to for older_than: a killed process's, never retried here."""
        return await asyncio.to_thread(_sweep, self._root, time.time() - older_than.total_seconds())


def _fresh(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)


def _sweep(root: Path, cutoff: float) -> int:
    removed = 0
    for directory in root.glob("*"):
        # A live transcode writes a segment every few seconds: its newest file is recent.
        with contextlib.suppress(FileNotFoundError):
            newest = max((entry.stat().st_mtime for entry in directory.rglob("*")), default=0.0)
            if max(newest, directory.stat().st_mtime) < cutoff:
                shutil.rmtree(directory, ignore_errors=True)
                removed += 1
    return removed
