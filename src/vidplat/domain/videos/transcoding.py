"""The transcode step of processing: a stored source becomes HLS renditions under its hls prefix.

The objects are stored before any row names them: each write is atomic, and they become
reachable only when the publish commits `renditions`. A retry deletes and rewrites them; the
storage sweep removes those of an attempt that no row took up.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from vidplat.domain.ports import Clock, ScratchSpace, Storage, Transcoder, UnitOfWorkFactory
from vidplat.domain.videos.keys import hls_prefix
from vidplat.domain.videos.model import Video
from vidplat.domain.videos.renditions import STANDARD_LADDER, Rung, TranscodeResult

# Progress is written when it has moved this many points, or any point after this long:
# at most ~20 short writes for a short video, one every few seconds at most for a long one.
PROGRESS_STEP = 5
PROGRESS_INTERVAL = timedelta(seconds=10)
# 100 is written only by the publish: until then the renditions are not reachable.
BEFORE_PUBLISH = 99
UPLOADS_AT_ONCE = 8  # objects written concurrently: segments are small, a round trip each


class UploadSuperseded(Exception):
    """The upload stopped being the video's pending one while it was transcoded (replaced, published, failed)."""


@dataclass(slots=True)
class _Progress:
    """Writes the transcoder's percents at a bounded rate, each in its own short, conditional transaction."""

    uow: UnitOfWorkFactory
    clock: Clock
    video: Video
    written: int = 0
    written_at: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.written_at = self.clock.now()

    async def __call__(self, percent: int) -> None:
        percent, now = min(percent, BEFORE_PUBLISH), self.clock.now()
        moved = percent - self.written
        if moved < PROGRESS_STEP and not (moved > 0 and now - self.written_at >= PROGRESS_INTERVAL):
            return
        async with self.uow() as uow:
            still_pending = await uow.videos.set_progress(self.video, percent)
            await uow.commit()
        if not still_pending:
            raise UploadSuperseded  # stops the transcode: its output would be no one's
        self.written, self.written_at = percent, now


@dataclass(frozen=True, slots=True)
class MakeRenditions:
    """Transcode the local copy of the video's pending upload and store the output under hls_prefix(final).

    Progress is written for a first upload only: while a replacement is processed the video shows
    the file it serves, which is ready (100). Raises TranscodeFailed with the reason, or
    UploadSuperseded when the upload stopped being pending meanwhile.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    transcoder: Transcoder
    scratch: ScratchSpace
    clock: Clock
    ladder: Sequence[Rung] = STANDARD_LADDER

    async def __call__(self, video: Video, source: Path, final: str) -> TranscodeResult:
        prefix = hls_prefix(final)
        progress = _Progress(self.uow, self.clock, video) if video.storage_key is None else None
        async with self.scratch.directory(prefix) as out_dir:
            result = await self.transcoder.transcode(source, out_dir, self.ladder, progress)
            await self.storage.delete_prefix(prefix)  # what a killed attempt stored
            await _store_tree(self.storage, out_dir, prefix)
        return result


async def _store_tree(storage: Storage, directory: Path, prefix: str) -> None:
    """Every file under directory, at prefix + its relative path, a few at a time."""
    files = await asyncio.to_thread(lambda: sorted(path for path in directory.rglob("*") if path.is_file()))
    slots = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def put(path: Path) -> None:
        async with slots:
            await storage.put_file(prefix + path.relative_to(directory).as_posix(), path)

    try:
        async with asyncio.TaskGroup() as group:
            for path in files:
                group.create_task(put(path))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the store's own error (full, unavailable), as one write raises it
