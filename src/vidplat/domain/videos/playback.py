"""Watching: signed playback grants, opening a stream (and crediting the view), thumbnails."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import InvalidToken, VideoNotFound, VideoNotReady
from vidplat.domain.ports import Clock, ReadCache, Storage, UnitOfWorkFactory, UrlSigner
from vidplat.domain.rewards.use_cases import CreditView
from vidplat.domain.topics import NO_CACHE
from vidplat.domain.videos.catalog import cached_video, visible_video

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackGrant:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuePlayback:
    uow: UnitOfWorkFactory
    signer: UrlSigner
    clock: Clock
    ttl: timedelta

    async def __call__(self, principal: Principal, video_id: UUID) -> PlaybackGrant:
        async with self.uow(read_only=True) as uow:
            video = await visible_video(uow, principal, video_id)
        if not video.is_playable:
            raise VideoNotReady
        expires_at = self.clock.now() + self.ttl
        return PlaybackGrant(token=self.signer.sign(principal.user_id, video_id, expires_at), expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class RedeemPlayback:
    """The caller behind a signed playback token: still an active user of the video's organization."""

    uow: UnitOfWorkFactory
    signer: UrlSigner
    clock: Clock

    async def __call__(self, token: str, video_id: UUID) -> Principal:
        user_id = self.signer.verify(token, video_id, self.clock.now())
        async with self.uow(read_only=True) as uow:
            video = await uow.videos.get_any(video_id)
            user = None if video is None else await uow.users.get(video.organization_id, user_id)
        if user is None:
            raise InvalidToken
        return Principal(user_id=user.id, organization_id=user.organization_id, role=user.role)


@dataclass(frozen=True, slots=True, kw_only=True)
class Playable:
    """What the HTTP layer needs to serve a file with validators and byte ranges."""

    size: int
    storage_key: str
    content_type: str
    etag: str
    last_modified: datetime
    read: Callable[[int, int], AsyncGenerator[bytes, None]]
    presign: Callable[[timedelta], Awaitable[str | None]]


@dataclass(frozen=True, slots=True)
class OpenStream:
    uow: UnitOfWorkFactory
    storage: Storage
    credit: CreditView
    cache: ReadCache = NO_CACHE

    async def __call__(self, principal: Principal, video_id: UUID, *, fresh: bool = False) -> Playable:
        """The video's file and its validators; `fresh` reads the row, not a cached copy of it."""
        video = await cached_video(self.uow, NO_CACHE if fresh else self.cache, principal, video_id)
        if not video.is_playable or video.storage_key is None or video.size_bytes is None:
            raise VideoNotReady
        await self._credit_once(principal, video.id)
        key = video.storage_key
        return Playable(
            size=video.size_bytes,
            storage_key=key,
            content_type=video.content_type or "application/octet-stream",
            etag=f'"{video.checksum or key.rsplit("/", 1)[-1]}"',
            last_modified=video.updated_at,
            read=lambda start, length: self.storage.read(key, start, length),
            presign=lambda ttl: self.storage.presign_get(key, ttl),
        )

    async def _credit_once(self, principal: Principal, video_id: UUID) -> None:
        """Credit the view unless this process knows it is credited; a failing ledger must not stop playback.

        Players send many range requests per view, so almost every call is a cache hit. A miss
        goes straight to the credit, which is idempotent: its lock and insert are shared with the
        other views of a batch, so a redundant attempt costs about what probing the ledger would.
        A credit is never taken back, so the cached answer depends on no topic.
        """

        async def credit() -> bool:
            await self.credit(principal.organization_id, principal.user_id, video_id)
            return True

        try:
            await self.cache.get_or_load(("credited", principal.user_id, video_id), (), credit)
        except Exception:
            log.exception("crediting view of video %s failed; playback goes on", video_id)


@dataclass(frozen=True, slots=True)
class GetThumbnail:
    uow: UnitOfWorkFactory
    storage: Storage

    async def __call__(self, principal: Principal, video_id: UUID) -> bytes:
        async with self.uow(read_only=True) as uow:
            video = await visible_video(uow, principal, video_id)
        if video.thumbnail_key is None:
            raise VideoNotFound("The thumbnail is not ready yet.")
        data = bytearray()
        size = (await self.storage.head(video.thumbnail_key)).size
        async for chunk in self.storage.read(video.thumbnail_key, 0, size):
            data += chunk
        return bytes(data)
