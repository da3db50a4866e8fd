"""A ready video as it was before processing made HLS renditions: its file, and no renditions."""

from __future__ import annotations

from uuid import UUID

from vidplat.domain.ports import UnitOfWorkFactory


async def forget_renditions(uow: UnitOfWorkFactory, video_id: UUID) -> None:
    """Record that the video has no renditions, as a video processed before HLS existed (its files stay)."""
    async with uow() as unit:
        video = await unit.videos.get_any(video_id, for_update=True)
        assert video is not None
        video.renditions = ()
        await unit.videos.update(video, "renditions")
        await unit.commit()
