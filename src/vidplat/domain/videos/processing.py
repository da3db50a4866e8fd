"""Background processing of a staged upload, shared by the SAQ worker and the embedded runner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from vidplat.domain import events
from vidplat.domain.ports import (
    Clock,
    JobQueue,
    MediaProbe,
    Storage,
    TranscodeFailed,
    UnitOfWorkFactory,
    UnreadableMedia,
)
from vidplat.domain.videos.keys import hls_prefix, media_key, thumbnail_key
from vidplat.domain.videos.model import MediaInfo, Video, VideoField, VideoStatus
from vidplat.domain.videos.renditions import Rendition
from vidplat.domain.videos.transcoding import MakeRenditions, UploadSuperseded
from vidplat.domain.webhooks.events import video_event
from vidplat.domain.webhooks.model import EventType

THUMBNAIL_AT = 0.1  # of the duration: past fade-ins, still representative
# What publishing writes: the media facts and the file's state, never the title, description or trash.
_PUBLISHED: tuple[VideoField, ...] = (
    "storage_key",
    "thumbnail_key",
    "pending_key",
    "pending_bytes",
    "status",
    "failure_reason",
    "duration_seconds",
    "width",
    "height",
    "video_codec",
    "audio_codec",
    "content_type",
    "size_bytes",
    "checksum",
    "updated_at",
    "progress",
    "renditions",
)


@dataclass(frozen=True, slots=True)
class ProcessUpload:
    """Probe, thumbnail, transcode and publish one upload; safe to run again after a crash at any step.

    The probe stays a step of its own, before the transcode: it refuses a bad file in seconds,
    and gives the row its facts (codecs, container) that the renditions do not keep. The staged
    file is moved to its final key before the row points at it, and a retry that finds only the
    moved file carries on from there, so no step is lost; the transcode is simply done again.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    probe: MediaProbe
    clock: Clock
    renditions: MakeRenditions

    async def __call__(self, video_id: UUID, upload_key: str) -> None:
        started = self.clock.now()
        async with self.uow(read_only=True) as uow:
            video = await uow.videos.get_any(video_id)
        final = media_key(upload_key)
        if video is None or video.pending_key != upload_key:
            await self._drop(video, upload_key, final)  # superseded by a newer upload, or already published
            return
        if await self.storage.exists(upload_key):
            source = upload_key
        elif await self.storage.exists(final):
            source = final
        else:
            await self.fail(video_id, upload_key, "The uploaded file was lost before it could be processed.")
            return
        try:
            # One local copy (a download, from a remote store) for the probe, thumbnail and transcode.
            async with self.probe.open(source) as media:
                info = await media.probe()
                thumbnail = await media.thumbnail(info.duration_seconds * THUMBNAIL_AT)
                transcoded = await self.renditions(video, media.path, final)
        except (UnreadableMedia, TranscodeFailed) as exc:
            await self.fail(video_id, upload_key, str(exc))
            return
        except UploadSuperseded:
            async with self.uow(read_only=True) as uow:
                current = await uow.videos.get_any(video_id)
            await self._drop(current, upload_key, final)
            return
        await self.storage.put_bytes(thumbnail_key(final), thumbnail)
        checksum = await self.storage.checksum(source)
        size = (await self.storage.head(source)).size
        if source != final:
            await self.storage.move(source, final)
        published = _Published(final, info, size, checksum, transcoded.renditions)
        if await self._publish(video_id, upload_key, published):
            seconds = (self.clock.now() - started).total_seconds()
            events.record("video_ready", "video ready", video_id=str(video_id), processing_seconds=seconds)

    async def _publish(self, video_id: UUID, upload_key: str, file: _Published) -> bool:
        async with self.uow() as uow:
            # Locked: an edit, trash or newer upload committed during the processing is kept, not undone.
            video = await uow.videos.get_any(video_id, for_update=True)
            if video is None or video.pending_key != upload_key:
                await self._drop(video, None, file.key)
                return False
            replaced = video.storage_key
            video.storage_key, video.thumbnail_key, video.pending_key = file.key, thumbnail_key(file.key), None
            video.pending_bytes = None
            video.status, video.failure_reason, video.progress = VideoStatus.READY, None, 100
            info = file.info
            video.duration_seconds, video.width, video.height = info.duration_seconds, info.width, info.height
            video.video_codec, video.audio_codec = info.video_codec, info.audio_codec
            video.content_type, video.size_bytes, video.checksum = info.content_type, file.size, file.checksum
            video.renditions = file.renditions
            video.updated_at = self.clock.now()
            await uow.videos.update(video, *_PUBLISHED)
            await uow.outbox.record(video_event(EventType.VIDEO_READY, video, video.updated_at))
            await uow.commit()
        if replaced is not None and replaced != file.key:
            # After the commit: the old renditions played until the new ones were reachable.
            await self._discard(replaced)
        return True

    async def _drop(self, video: Video | None, upload_key: str | None, final: str) -> None:
        """Remove what this upload's processing stored: no one's, unless (a concurrent run) published it."""
        if upload_key is not None:
            await self.storage.delete(upload_key)
        if video is None or video.storage_key != final:
            await self._discard(final)

    async def fail(self, video_id: UUID, upload_key: str, reason: str) -> None:
        """Record why the upload failed, then drop its bytes; the video keeps any file it already served."""
        await fail_upload(self.uow, self.storage, self.clock, video_id, upload_key, reason)

    async def _discard(self, media: str) -> None:
        await _discard(self.storage, media)


@dataclass(frozen=True, slots=True)
class _Published:
    """The processed file as the row will name it."""

    key: str
    info: MediaInfo
    size: int
    checksum: str
    renditions: tuple[Rendition, ...]


async def fail_upload(
    uow_factory: UnitOfWorkFactory, storage: Storage, clock: Clock, video_id: UUID, upload_key: str, reason: str
) -> None:
    """Record why an upload failed, then drop its bytes; the video keeps any file it already served."""
    async with uow_factory() as uow:
        video = await uow.videos.get_any(video_id, for_update=True)
        if video is None or video.pending_key != upload_key:
            return
        video.pending_key, video.pending_bytes, video.failure_reason = None, None, reason
        if video.storage_key is None:
            video.status, video.progress = VideoStatus.FAILED, None
        video.updated_at = clock.now()
        await uow.videos.update(
            video, "pending_key", "pending_bytes", "failure_reason", "status", "progress", "updated_at"
        )
        await uow.outbox.record(video_event(EventType.VIDEO_FAILED, video, video.updated_at))
        await uow.commit()
    await storage.delete(upload_key)
    await _discard(storage, media_key(upload_key))
    events.record("video_failed", "video failed", video_id=str(video_id), reason=reason)


async def _discard(storage: Storage, media: str) -> None:
    """Remove a processed file and everything made from it."""
    await storage.delete(media)
    await storage.delete(thumbnail_key(media))
    await storage.delete_prefix(hls_prefix(media))


@dataclass(frozen=True, slots=True)
class FailStuckUploads:
    """Last line of defence: an upload pending far longer than any retry could take is failed.

    `max_age` must exceed the job queue's whole retry budget (attempts x timeout, plus
    delays), or a live last attempt could be failed under it.
    """

    uow: UnitOfWorkFactory
    process: ProcessUpload
    clock: Clock
    max_age: timedelta = timedelta(hours=24)

    async def __call__(self) -> int:
        async with self.uow(read_only=True) as uow:
            stuck: list[Video] = list(await uow.videos.stuck_processing(self.clock.now() - self.max_age, 100))
        for video in stuck:
            if video.pending_key is not None:
                await self.process.fail(video.id, video.pending_key, "Processing did not finish in time.")
        return len(stuck)


@dataclass(frozen=True, slots=True)
class RequeuePendingUploads:
    """Enqueue the processing of every pending upload again, from the database's word.

    The queue may have lost its jobs (Redis restarted empty, an embedded process restarted)
    while the staged bytes are intact. The queue keeps one job per upload, and processing an
    upload that is already published is a no-op, so requeuing one still queued, running or
    done costs nothing. The oldest `batch` per run: the next run takes those after them.
    """

    uow: UnitOfWorkFactory
    jobs: JobQueue
    clock: Clock
    batch: int = 500

    async def __call__(self) -> int:
        async with self.uow(read_only=True) as uow:
            pending = list(await uow.videos.stuck_processing(self.clock.now(), self.batch))
        for video in pending:
            if video.pending_key is not None:
                await self.jobs.enqueue_video_processing(video.id, video.pending_key)
        return len(pending)
