"""Accepting a file: stream it to a staging key, check it is a video, enqueue processing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from uuid import UUID

from vidplat.domain import events
from vidplat.domain.accounts.model import Principal
from vidplat.domain.billing import quota
from vidplat.domain.errors import Unavailable, UnsupportedMedia, VideoNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.ports import Clock, JobQueue, Storage, UnitOfWorkFactory
from vidplat.domain.videos.keys import upload_key
from vidplat.domain.videos.model import Video, VideoStatus, clean_description, clean_title
from vidplat.domain.videos.processing import fail_upload
from vidplat.domain.videos.sniff import SNIFF_BYTES, sniff_container

_QUEUE_DOWN = "The job queue was unavailable, so the file was not kept; upload it again."


async def _sniffed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Pass the stream through, failing before storing much when it does not start like a video."""
    iterator = aiter(chunks)
    head = b""
    async for chunk in iterator:
        head += chunk
        if len(head) >= SNIFF_BYTES:
            break
    if sniff_container(head) is None:
        raise UnsupportedMedia
    yield head
    async for chunk in iterator:
        yield chunk


@dataclass(frozen=True, slots=True)
class Uploads:
    """Stages uploaded bytes and hands them to the job queue once the row is committed."""

    storage: Storage
    jobs: JobQueue
    max_bytes: int

    async def stage(self, organization_id: UUID, video_id: UUID, chunks: AsyncIterator[bytes]) -> tuple[str, int]:
        key = upload_key(organization_id, video_id, new_id())
        size = await self.storage.write(key, _sniffed(chunks), self.max_bytes)
        return key, size

    async def hand_over(self, uow: UnitOfWorkFactory, clock: Clock, video_id: UUID, key: str) -> None:
        """Enqueue the processing of a committed upload.

        When the job queue is down the upload fails at once and its bytes are dropped, instead of
        waiting in `processing` for the stuck-upload sweep; the caller still gets the Unavailable.
        """
        try:
            await self.jobs.enqueue_video_processing(video_id, key)
        except Unavailable:
            await fail_upload(uow, self.storage, clock, video_id, key, _QUEUE_DOWN)
            raise
        events.record("upload_accepted", "upload accepted", video_id=str(video_id))

    @asynccontextmanager
    async def recording(self, key: str) -> AsyncIterator[None]:
        """Wrap the transaction that records a staged upload: if any of it fails, drop the bytes."""
        try:
            yield
        except BaseException:
            await self.storage.delete(key)
            raise


@dataclass(frozen=True, slots=True, kw_only=True)
class UploadCommand:
    title: str
    description: str | None
    chunks: AsyncIterator[bytes]
    reserved: int = 0  # bytes a resumable upload already reserved for this file


@dataclass(frozen=True, slots=True)
class UploadVideo:
    uow: UnitOfWorkFactory
    uploads: Uploads
    clock: Clock

    async def __call__(self, principal: Principal, cmd: UploadCommand) -> Video:
        principal.require_admin()
        title, description = clean_title(cmd.title), clean_description(cmd.description)
        video_id = new_id()
        async with self.uow(read_only=True) as uow:
            await quota.has_room(uow, principal.organization_id, self.clock.now(), releasing=cmd.reserved)
        key, size = await self.uploads.stage(principal.organization_id, video_id, cmd.chunks)
        now = self.clock.now()
        video = Video(
            id=video_id,
            organization_id=principal.organization_id,
            title=title,
            description=description,
            status=VideoStatus.PROCESSING,
            uploaded_by=principal.user_id,
            created_at=now,
            updated_at=now,
            pending_key=key,
            size_bytes=size,
            pending_bytes=size,
            progress=0,
        )
        async with self.uploads.recording(key), self.uow() as uow:
            # The size is known only now that the bytes are stored: a refusal here drops them.
            await quota.reserve(uow, principal.organization_id, size, now, releasing=cmd.reserved)
            await uow.videos.add(video)
            await uow.commit()
        await self.uploads.hand_over(self.uow, self.clock, video.id, key)
        return video


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceCommand:
    title: str | None
    description: str | None
    chunks: AsyncIterator[bytes]
    reserved: int = 0  # bytes a resumable upload already reserved for this file


@dataclass(frozen=True, slots=True)
class ReplaceVideoFile:
    """Stage a new file; the old one keeps streaming until the new one is processed."""

    uow: UnitOfWorkFactory
    uploads: Uploads
    clock: Clock

    async def __call__(self, principal: Principal, video_id: UUID, cmd: ReplaceCommand) -> Video:
        principal.require_admin()
        title = None if cmd.title is None else clean_title(cmd.title)
        description = clean_description(cmd.description)
        async with self.uow(read_only=True) as uow:
            if await uow.videos.get(principal.organization_id, video_id) is None:
                raise VideoNotFound
            await quota.has_room(uow, principal.organization_id, self.clock.now(), releasing=cmd.reserved)
        key, size = await self.uploads.stage(principal.organization_id, video_id, cmd.chunks)
        async with self.uploads.recording(key), self.uow() as uow:
            await uow.organizations.lock(principal.organization_id)  # the organization before the row
            video = await uow.videos.get(principal.organization_id, video_id, for_update=True)
            if video is None:
                raise VideoNotFound
            # The upload it supersedes stops counting; the served file counts until the new one is published.
            await quota.reserve(
                uow,
                principal.organization_id,
                size,
                self.clock.now(),
                releasing=(video.pending_bytes or 0) + cmd.reserved,
            )
            video.title = title or video.title
            video.description = description if description is not None else video.description
            video.pending_key, video.pending_bytes = key, size
            video.updated_at = self.clock.now()
            if video.storage_key is None:
                video.status, video.failure_reason, video.progress = VideoStatus.PROCESSING, None, 0
            # A replacement of a served file leaves its progress at 100: the video shows the file it serves.
            await uow.videos.update(
                video,
                "title",
                "description",
                "pending_key",
                "pending_bytes",
                "updated_at",
                "status",
                "failure_reason",
                "progress",
            )
            await uow.commit()
        await self.uploads.hand_over(self.uow, self.clock, video.id, key)
        return video
