"""Watching: signed playback grants, opening a stream (and crediting the view), thumbnails."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from vidplat.domain.accounts.auth import SessionCheck
from vidplat.domain.accounts.model import Principal
from vidplat.domain.background import Background
from vidplat.domain.errors import InvalidToken, VideoFailed, VideoNotFound, VideoNotReady
from vidplat.domain.ports import Clock, ReadCache, Storage, UnitOfWorkFactory, UrlSigner
from vidplat.domain.rewards.use_cases import CreditView
from vidplat.domain.topics import NO_CACHE
from vidplat.domain.videos.catalog import cached_video, visible_video
from vidplat.domain.videos.model import PlaybackClaims, VideoStatus

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
        if principal.session_id is None:  # a grant must name the session it dies with
            raise InvalidToken
        expires_at = self.clock.now() + self.ttl
        claims = PlaybackClaims(user_id=principal.user_id, session_id=principal.session_id)
        return PlaybackGrant(token=self.signer.sign(claims, video_id, expires_at), expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class RedeemPlayback:
    """The caller behind a signed playback token, while the session it was issued in lives.

    The session check is the bearer tokens' own (cached until a logout, password change or
    deletion announces itself), so a token dies with its session and costs no round trip.
    The video's tenancy is checked by what the caller then opens, as for a bearer token.
    """

    signer: UrlSigner
    clock: Clock
    sessions: SessionCheck

    async def __call__(self, token: str, video_id: UUID) -> Principal:
        claims = self.signer.verify(token, video_id, self.clock.now())
        return await self.sessions(claims.user_id, claims.session_id)


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
    """The video's file for a caller allowed to watch it; the view is credited on the side.

    The credit is handed to `background` and never awaited: under lock contention it can take
    the lock's bound, and the database constraint, not this request, is what makes it exactly
    once. A graceful stop drains `background`, so a pending credit is still committed.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    credit: CreditView
    cache: ReadCache = NO_CACHE
    background: Background = field(default_factory=Background)
    # Views whose credit is under way here: a player's many range requests leave one task, not one each.
    _crediting: set[tuple[UUID, UUID]] = field(default_factory=set, init=False, repr=False)

    async def __call__(self, principal: Principal, video_id: UUID, *, fresh: bool = False) -> Playable:
        """The video's file and its validators; `fresh` reads the row, not a cached copy of it."""
        video = await cached_video(self.uow, NO_CACHE if fresh else self.cache, principal, video_id)
        if not video.is_playable or video.storage_key is None or video.size_bytes is None:
            raise VideoNotReady
        self._credit_in_background(principal, video.id)
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

    def _credit_in_background(self, principal: Principal, video_id: UUID) -> None:
        view = (principal.user_id, video_id)
        if view in self._crediting:
            return
        self._crediting.add(view)
        task = self.background.spawn(self._credit_once(principal, video_id), f"credit view of {video_id}")
        task.add_done_callback(lambda _: self._crediting.discard(view))

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
            if video.status is VideoStatus.FAILED:
                raise VideoFailed(f"The video failed processing, so it has no thumbnail: {video.failure_reason}")
            raise VideoNotFound("The thumbnail is not ready yet.")
        data = bytearray()
        size = (await self.storage.head(video.thumbnail_key)).size
        async for chunk in self.storage.read(video.thumbnail_key, 0, size):
            data += chunk
        return bytes(data)
