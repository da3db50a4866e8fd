"""Trash retention: videos trashed longer ago than the retention lose their files for good."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from vidplat.domain.ports import Clock, Storage, UnitOfWorkFactory
from vidplat.domain.videos.sweep import referenced_keys, referenced_prefixes

log = logging.getLogger(__name__)

BATCH = 100
MAX_BATCHES = 50  # per run: the next run carries on


@dataclass(frozen=True, slots=True)
class PurgeTrash:
    """Turn expired trash into tombstones, then remove their objects.

    The row is kept (its view credits point at it) with `purged_at` set and no keys, and that
    commits before any object is removed: a crash in between leaves objects no row names, which
    the storage sweep removes, never a row naming objects that are gone. Concurrent runs take
    disjoint batches (`purgeable` skips locked rows), so each video is purged exactly once.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    clock: Clock
    retention: timedelta

    async def __call__(self) -> int:
        purged = 0
        for _ in range(MAX_BATCHES):
            now = self.clock.now()
            keys: set[str] = set()
            prefixes: set[str] = set()
            async with self.uow() as uow:
                batch = await uow.videos.purgeable(now - self.retention, BATCH)
                for video in batch:
                    keys |= referenced_keys(video)
                    prefixes |= referenced_prefixes(video)
                    video.storage_key = video.pending_key = video.thumbnail_key = None
                    video.pending_bytes, video.purged_at, video.updated_at = None, now, now
                    video.renditions = ()
                    await uow.videos.update(
                        video,
                        "storage_key",
                        "pending_key",
                        "thumbnail_key",
                        "pending_bytes",
                        "purged_at",
                        "updated_at",
                        "renditions",
                    )
                await uow.commit()
            for key in sorted(keys):
                await self.storage.delete(key)
            for prefix in sorted(prefixes):
                await self.storage.delete_prefix(prefix)
            purged += len(batch)
            if len(batch) < BATCH:
                break
        if purged:
            log.info("trash purge removed %d videos", purged)
        return purged
