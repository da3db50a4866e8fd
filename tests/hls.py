"""A ready video's HLS renditions, made by the real transcoder and published as processing does it.

Until processing transcodes uploads itself, tests that watch by HLS give a ready video its
renditions with `give_renditions`: the served file is transcoded (SubprocessTranscoder, the
production code) on a small ladder, its files are stored under keys.hls_prefix(storage_key)
and the row's `renditions` set, in one unit of work that announces the change to the caches.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import UUID

from vidplat.adapters.media.transcode import SubprocessTranscoder
from vidplat.domain.ports import Storage, UnitOfWorkFactory
from vidplat.domain.videos.keys import hls_prefix
from vidplat.domain.videos.model import Video
from vidplat.domain.videos.renditions import Rung

# Two small rungs, so a 128x96 clip gets two renditions (48p, 96p) in a fraction of a second.
SMALL_LADDER = (Rung(short_side=48, max_bitrate=100_000), Rung(short_side=96, max_bitrate=200_000))


async def give_renditions(uow: UnitOfWorkFactory, storage: Storage, video_id: UUID) -> Video:
    """Transcode the video's served file, store its HLS tree and record its renditions; the updated video."""
    async with uow(read_only=True) as unit:
        video = await unit.videos.get_any(video_id)
    assert video is not None
    assert video.storage_key is not None
    assert video.size_bytes is not None
    with tempfile.TemporaryDirectory() as scratch:
        source, out = Path(scratch) / "source", Path(scratch) / "hls"
        source.write_bytes(b"".join([chunk async for chunk in storage.read(video.storage_key, 0, video.size_bytes)]))
        result = await SubprocessTranscoder().transcode(source, out, SMALL_LADDER)
        prefix = hls_prefix(video.storage_key)
        for path in sorted(out.rglob("*")):
            if path.is_file():
                await storage.put_bytes(prefix + path.relative_to(out).as_posix(), path.read_bytes())
    async with uow() as unit:
        video = await unit.videos.get_any(video_id, for_update=True)
        assert video is not None
        video.renditions = result.renditions
        await unit.videos.update(video, "renditions")
        await unit.commit()
    return video
