"""Creating, appending to, reading, terminating and expiring resumable uploads."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.billing import quota
from vidplat.domain.errors import OffsetMismatch, PayloadTooLarge, UnsupportedMedia, UploadNotFound, VideoNotFound
from vidplat.domain.ids import new_id
from vidplat.domain.ports import Clock, Storage, UnitOfWorkFactory
from vidplat.domain.uploads.model import ResumableUpload, part_key, parts_prefix
from vidplat.domain.videos.model import clean_description, clean_title
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile, UploadCommand, UploadVideo

log = logging.getLogger(__name__)

# Bytes of a PATCH body held before they are stored as one segment: bounds memory per request,
# and is S3's minimum part size, so a segment can later become a multipart part.
SEGMENT_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class NewUpload:
    length: int
    title: str
    description: str | None = None
    filename: str | None = None
    replace_video_id: UUID | None = None


@dataclass(frozen=True, slots=True)
class CreateUpload:
    uow: UnitOfWorkFactory
    clock: Clock
    max_bytes: int
    expiry: timedelta

    async def __call__(self, principal: Principal, cmd: NewUpload) -> ResumableUpload:
        principal.require_admin()
        if cmd.length > self.max_bytes:
            raise PayloadTooLarge
        now = self.clock.now()
        upload = ResumableUpload(
            id=new_id(),
            organization_id=principal.organization_id,
            created_by=principal.user_id,
            length=cmd.length,
            title=clean_title(cmd.title),
            description=clean_description(cmd.description),
            filename=cmd.filename,
            replace_video_id=cmd.replace_video_id,
            created_at=now,
            expires_at=now + self.expiry,
        )
        async with self.uow() as uow:
            # Upload-Length is reserved now and counts against the plan until completion or expiry.
            await quota.reserve(uow, principal.organization_id, cmd.length, now)
            if (
                cmd.replace_video_id is not None
                and await uow.videos.get(principal.organization_id, cmd.replace_video_id) is None
            ):
                raise VideoNotFound
            await uow.resumable_uploads.add(upload)
            await uow.commit()
        return upload


@dataclass(frozen=True, slots=True)
class GetUpload:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, upload_id: UUID) -> ResumableUpload:
        """A live upload of the caller's organization; another's, an expired or an ended one is not found."""
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            upload = await uow.resumable_uploads.get(principal.organization_id, upload_id)
        if upload is None or upload.expires_at <= self.clock.now():
            raise UploadNotFound
        return upload


async def _segments(chunks: AsyncIterator[bytes], room: int) -> AsyncIterator[bytes]:
    """The body in segments of SEGMENT_BYTES; when the body breaks off, what arrived is still yielded."""
    buffer = bytearray()
    try:
        async for chunk in chunks:
            if len(chunk) > room:
                raise PayloadTooLarge("The body goes past Upload-Length.")
            room -= len(chunk)
            buffer += chunk
            while len(buffer) >= SEGMENT_BYTES:
                yield bytes(buffer[:SEGMENT_BYTES])
                del buffer[:SEGMENT_BYTES]
    except PayloadTooLarge:
        raise
    except Exception:
        if buffer:
            yield bytes(buffer)
        raise
    if buffer:
        yield bytes(buffer)


@dataclass(frozen=True, slots=True)
class AppendToUpload:
    """PATCH: store the body as segments, advancing the offset after each; the last byte completes the upload."""

    uow: UnitOfWorkFactory
    storage: Storage
    clock: Clock
    get: GetUpload
    upload_video: UploadVideo
    replace_video_file: ReplaceVideoFile

    async def __call__(
        self, principal: Principal, upload_id: UUID, offset: int, chunks: AsyncIterator[bytes]
    ) -> ResumableUpload:
        upload = await self.get(principal, upload_id)
        if offset != upload.offset:
            raise OffsetMismatch
        if upload.complete:
            return upload
        async for segment in _segments(chunks, upload.length - upload.offset):
            await self._store(upload, segment)
        if upload.offset == upload.length:
            await self._complete(principal, upload)
        return upload

    async def _store(self, upload: ResumableUpload, segment: bytes) -> None:
        key = part_key(upload, upload.offset)
        await self.storage.put_bytes(key, segment)
        parts = [*upload.parts, key]
        async with self.uow() as uow:
            advanced = await uow.resumable_uploads.advance(
                upload, upload.offset + len(segment), parts, self.clock.now()
            )
            await uow.commit()
        if not advanced:
            await self.storage.delete(key)
            raise OffsetMismatch
        upload.offset += len(segment)
        upload.parts = parts

    async def _complete(self, principal: Principal, upload: ResumableUpload) -> None:
        """Hand the bytes to the same pipeline as a multipart upload, then drop the segments."""
        chunks = _assembled(self.storage, upload.parts)
        try:
            if upload.replace_video_id is None:
                cmd = UploadCommand(
                    title=upload.title, description=upload.description, chunks=chunks, reserved=upload.length
                )
                video = await self.upload_video(principal, cmd)
            else:
                replace = ReplaceCommand(
                    title=upload.title, description=upload.description, chunks=chunks, reserved=upload.length
                )
                video = await self.replace_video_file(principal, upload.replace_video_id, replace)
        except (UnsupportedMedia, VideoNotFound):
            await _discard(self.uow, self.storage, upload)  # nothing kept
            raise
        async with self.uow() as uow:
            await uow.resumable_uploads.finish(upload.id, video.id)
            await uow.commit()
        upload.video_id = video.id
        await self.storage.delete_prefix(parts_prefix(upload.organization_id, upload.id))


async def _assembled(storage: Storage, parts: list[str]) -> AsyncIterator[bytes]:
    for key in parts:
        size = (await storage.head(key)).size
        reader = storage.read(key, 0, size)
        try:
            async for chunk in reader:
                yield chunk
        finally:
            await reader.aclose()


async def _discard(uow_factory: UnitOfWorkFactory, storage: Storage, upload: ResumableUpload) -> None:
    # Bytes first: a crash in between leaves a row the expiry job finishes, never unowned bytes.
    await storage.delete_prefix(parts_prefix(upload.organization_id, upload.id))
    async with uow_factory() as uow:
        await uow.resumable_uploads.remove(upload.id)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class TerminateUpload:
    """DELETE: the upload ends now (404 from here on) and its bytes are removed."""

    uow: UnitOfWorkFactory
    storage: Storage
    clock: Clock

    async def __call__(self, principal: Principal, upload_id: UUID) -> None:
        principal.require_admin()
        now = self.clock.now()
        async with self.uow() as uow:
            found = await uow.resumable_uploads.get(principal.organization_id, upload_id)
            if (
                found is None
                or found.expires_at <= now
                or not await uow.resumable_uploads.end(principal.organization_id, upload_id, now)
            ):
                raise UploadNotFound
            await uow.commit()
        # Ended first: a PATCH racing this one can no longer record a segment (advance() checks
        # expiry), so what is removed here stays removed.
        await _discard(self.uow, self.storage, found)


@dataclass(frozen=True, slots=True)
class ExpireUploads:
    """Cron: remove uploads past their expiry (ended, terminated or abandoned) with their bytes."""

    uow: UnitOfWorkFactory
    storage: Storage
    clock: Clock
    batch: int = 100

    async def __call__(self) -> int:
        async with self.uow(read_only=True) as uow:
            expired = await uow.resumable_uploads.expired(self.clock.now(), self.batch)
        for upload in expired:
            await _discard(self.uow, self.storage, upload)
        if expired:
            log.info("expired %d resumable uploads", len(expired))
        return len(expired)
