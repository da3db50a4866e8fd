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
from vidplat.domain.uploads.model import ResumableUpload, scratch_prefix
from vidplat.domain.uploads.ports import ResumableStorage, WriteState
from vidplat.domain.videos.model import Video, clean_description, clean_title
from vidplat.domain.videos.sniff import SNIFF_BYTES, sniff_container
from vidplat.domain.videos.upload import Uploads, new_video, record_new, record_replacement

log = logging.getLogger(__name__)


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
    writes: ResumableStorage
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
        # Begun before the row exists, so the row always names its write; a crash in between leaves
        # an unnamed multipart upload for the bucket's lifecycle rule (README).
        upload.write_state = await self.writes.begin(upload.key)
        try:
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
        except BaseException:
            await self.writes.abort(upload.write())
            raise
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


async def _bounded(chunks: AsyncIterator[bytes], room: int) -> AsyncIterator[bytes]:
    """The body, refusing (before storing it) a chunk that goes past Upload-Length."""
    async for chunk in chunks:
        if len(chunk) > room:
            raise PayloadTooLarge("The body goes past Upload-Length.")
        room -= len(chunk)
        yield chunk


@dataclass(slots=True)
class _RowLedger:
    """The write's progress, moved on in the upload's row only by conditional updates."""

    uow: UnitOfWorkFactory
    clock: Clock
    upload: ResumableUpload

    async def claim(self) -> int:
        async with self.uow() as uow:
            number = await uow.resumable_uploads.claim(self.upload, self.clock.now())
            await uow.commit()
        if number is None:
            raise await self._refusal() or OffsetMismatch()
        return number

    async def confirm(self) -> None:
        refusal = await self._refusal()
        if refusal is not None:
            raise refusal

    async def record(self, offset: int, state: WriteState) -> None:
        async with self.uow() as uow:
            advanced = await uow.resumable_uploads.advance(self.upload, offset, state, self.clock.now())
            await uow.commit()
        if not advanced:
            raise await self._refusal() or OffsetMismatch()
        self.upload.offset, self.upload.write_state = offset, state

    async def _refusal(self) -> OffsetMismatch | UploadNotFound | None:
        """Why the row is no longer where this write started, if it is not."""
        async with self.uow(read_only=True) as uow:
            now = await uow.resumable_uploads.get(self.upload.organization_id, self.upload.id)
        if now is None or now.expires_at <= self.clock.now():
            return UploadNotFound()
        if now.offset != self.upload.offset or now.complete:
            return OffsetMismatch()
        return None


@dataclass(frozen=True, slots=True)
class AppendToUpload:
    """PATCH: store the body, acknowledging its bytes as they become durable; the last byte completes the upload."""

    uow: UnitOfWorkFactory
    storage: Storage
    writes: ResumableStorage
    clock: Clock
    get: GetUpload
    uploads: Uploads

    async def __call__(
        self, principal: Principal, upload_id: UUID, offset: int, chunks: AsyncIterator[bytes]
    ) -> ResumableUpload:
        upload = await self.get(principal, upload_id)
        if offset != upload.offset:
            raise OffsetMismatch
        if upload.complete:
            return upload
        started = upload.write()
        ledger = _RowLedger(self.uow, self.clock, upload)
        if await self.writes.append(started, _bounded(chunks, upload.length - offset), ledger):
            await self._complete(principal, upload)
        return upload

    async def _complete(self, principal: Principal, upload: ResumableUpload) -> None:
        """Record the last bytes, the video and the upload's end in one transaction, then enqueue processing.

        A request that crashed after publishing left the offset where its body began: the client's
        retry gets here again, and the conditional completion lets exactly one request record it.
        """
        if not await self._is_video(upload):
            await _remove(self.uow, self.storage, self.writes, upload)  # nothing kept
            raise UnsupportedMedia
        try:
            video = await self._record(principal, upload)
        except VideoNotFound:
            await _remove(self.uow, self.storage, self.writes, upload)
            raise
        if video is None:  # another request completed it first
            upload.offset, upload.video_id = upload.length, (await self.get(principal, upload.id)).video_id
            return
        upload.offset, upload.video_id = upload.length, video.id
        await self.uploads.hand_over(self.uow, self.clock, video.id, upload.key)
        await self.storage.delete_prefix(scratch_prefix(upload.organization_id, upload.id))

    async def _is_video(self, upload: ResumableUpload) -> bool:
        head = b"".join([chunk async for chunk in self.storage.read(upload.key, 0, min(SNIFF_BYTES, upload.length))])
        return sniff_container(head) is not None

    async def _record(self, principal: Principal, upload: ResumableUpload) -> Video | None:
        now = self.clock.now()
        async with self.uow() as uow:
            await uow.organizations.lock(upload.organization_id)  # the organization first, as every quota check
            if not await uow.resumable_uploads.complete(upload, upload.target_video_id, now):
                return None  # another request completed it (or it ended): it touches no video
            # From here the upload reserves nothing: its file counts instead.
            if upload.replace_video_id is None:
                video = new_video(
                    principal, upload.id, upload.title, upload.description, upload.key, upload.length, now
                )
                await record_new(uow, video, now)
            else:
                video = await record_replacement(
                    uow,
                    principal.organization_id,
                    upload.replace_video_id,
                    upload.title,
                    upload.description,
                    upload.key,
                    upload.length,
                    now,
                )
            await uow.commit()
        return video


async def _remove(
    uow_factory: UnitOfWorkFactory, storage: Storage, writes: ResumableStorage, upload: ResumableUpload
) -> None:
    """Remove an ended upload's row, and its bytes unless it completed (its file is its video's then)."""
    if not upload.complete:
        # Bytes first: a crash in between leaves a row the expiry job finishes, never unowned bytes.
        await writes.abort(upload.write())
        await storage.delete(upload.key)  # published, and then refused
        await storage.delete_prefix(scratch_prefix(upload.organization_id, upload.id))
    async with uow_factory() as uow:
        await uow.resumable_uploads.remove(upload.id)
        await uow.commit()


@dataclass(frozen=True, slots=True)
class TerminateUpload:
    """DELETE: the upload ends now (404 from here on) and its bytes are removed."""

    uow: UnitOfWorkFactory
    storage: Storage
    writes: ResumableStorage
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
        # Ended first: a PATCH racing this one can no longer record progress (the ledger checks
        # expiry), so what is removed here stays removed.
        await _remove(self.uow, self.storage, self.writes, found)


@dataclass(frozen=True, slots=True)
class ExpireUploads:
    """Cron: remove uploads past their expiry (ended, terminated or abandoned) with their bytes."""

    uow: UnitOfWorkFactory
    storage: Storage
    writes: ResumableStorage
    clock: Clock
    batch: int = 100

    async def __call__(self) -> int:
        async with self.uow(read_only=True) as uow:
            expired = await uow.resumable_uploads.expired(self.clock.now(), self.batch)
        for upload in expired:
            await _remove(self.uow, self.storage, self.writes, upload)
        if expired:
            log.info("expired %d resumable uploads", len(expired))
        return len(expired)
