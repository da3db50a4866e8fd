"""The storage sweep: what dead requests and jobs left behind, and objects no video names."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from vidplat.domain.ports import Clock, Storage, UnitOfWorkFactory
from vidplat.domain.videos.keys import hls_prefix, media_key, thumbnail_key
from vidplat.domain.videos.model import Video

log = logging.getLogger(__name__)

# The keys keys.py makes for a video: a staged upload, a published file, its thumbnail, the objects
# under its hls prefix. Any other key (another feature's) is not this sweep's to judge.
_VIDEO_KEY = re.compile(
    r"orgs/[0-9a-f-]{36}/(?:uploads|videos)/(?P<video>[0-9a-f-]{36})/[0-9a-f-]{36}(?:\.jpg|\.hls/.+)?"
)


def referenced_keys(video: Video) -> set[str]:
    """Every key the row may need: its file and thumbnail, and a pending upload before and after its move."""
    keys = {key for key in (video.storage_key, video.thumbnail_key) if key is not None}
    if video.pending_key is not None:
        moved = media_key(video.pending_key)
        keys |= {video.pending_key, moved, thumbnail_key(moved)}
    return keys


def referenced_prefixes(video: Video) -> set[str]:
    """The hls prefixes the row may need: its served file's renditions, and those a pending upload is making."""
    media = {video.storage_key, None if video.pending_key is None else media_key(video.pending_key)}
    return {hls_prefix(key) for key in media if key is not None}


def is_referenced(video: Video, key: str) -> bool:
    return key in referenced_keys(video) or key.startswith(tuple(referenced_prefixes(video)))


@dataclass(frozen=True, slots=True)
class SweepStorage:
    """Remove unfinished writes idle longer than `ttl`, and video objects that old that no row refers to.

    Only objects older than the TTL are judged: an upload is written before its row commits, and
    an in-flight write is never that old. An old object cannot become referenced again (a row only
    ever takes fresh keys), so deciding on a plain read of the rows is safe.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    clock: Clock
    ttl: timedelta

    async def __call__(self) -> int:
        removed = await self.storage.sweep_temporary(self.ttl)
        cutoff = self.clock.now() - self.ttl
        candidates: dict[UUID, list[str]] = {}
        async for stored in self.storage.list("orgs/"):
            match = _VIDEO_KEY.fullmatch(stored.key)
            if match is not None and stored.last_modified < cutoff:
                candidates.setdefault(UUID(match["video"]), []).append(stored.key)
        for video_id, keys in candidates.items():
            async with self.uow(read_only=True) as uow:
                video = await uow.videos.get_any(video_id)
            for key in keys:
                if video is None or not is_referenced(video, key):
                    await self.storage.delete(key)
                    removed += 1
        if removed:
            log.info("storage sweep removed %d objects", removed)
        return removed
