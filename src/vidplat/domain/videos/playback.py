"""Watching: signed playback grants, opening a stream (and crediting the view), thumbnails."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field, replace
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
from vidplat.domain.videos.delivery import segment_expires_at, start_expires_at
from vidplat.domain.videos.model import PlaybackClaims, PlaybackKind, VideoStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackGrant:
    """A start token (the HLS master and the thumbnail, until expires_at) and the progressive file's view token."""

    start_token: str
    view_token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IssuePlayback:
    """Tokens for players that cannot send headers; their lifetimes are reasoned out in delivery.py."""

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
        start_until = start_expires_at(self.clock.now(), self.ttl)
        start = PlaybackClaims(
            user_id=principal.user_id, session_id=principal.session_id, kind=PlaybackKind.START, expires_at=start_until
        )
        # The view of the progressive file may start at the last moment of the window and must then last.
        view_until = segment_expires_at(start_until, video.duration_seconds or 0.0, start_until)
        view = replace(start, kind=PlaybackKind.VIEW, expires_at=view_until)
        return PlaybackGrant(
            start_token=self.signer.sign(start, video_id),
            view_token=self.signer.sign(view, video_id),
            expires_at=start_until,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackPass:
    """A verified playback token, what it was issued as, and the caller behind it."""

    principal: Principal
    token: str
    claims: PlaybackClaims


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

    async def __call__(self, token: str, video_id: UUID) -> PlaybackPass:
        claims = self.signer.verify(token, video_id, self.clock.now())
        principal = await self.sessions(claims.user_id, claims.session_id)
        return PlaybackPass(principal=principal, token=token, claims=claims)


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

    @classmethod
    def stored(
        cls, storage: Storage, key: str, *, size: int, content_type: str, etag: str, last_modified: datetime
    ) -> Playable:
        """The object under key in storage, read and presigned from there."""
        return cls(
            size=size,
            storage_key=key,
            content_type=content_type,
            etag=etag,
            last_modified=last_modified,
            read=lambda start, length: storage.read(key, start, length),
            presign=lambda ttl: storage.presign_get(key, ttl),
        )


@dataclass(frozen=True, slots=True)
class ViewCredits:
    """Credits a view off the request's path, once per (user, video) whichever way it is watched.

    The credit is handed to `background` and never awaited: under lock contention it can take
    the lock's bound, and the database constraint, not this request, is what makes it exactly
    once. A graceful stop drains `background`, so a pending credit is still committed.
    """

    credit: CreditView
    cache: ReadCache = NO_CACHE
    background: Background = field(default_factory=Background)
    # Views whose credit is under way here: a player's many requests leave one task, not one each.
    _crediting: set[tuple[UUID, UUID]] = field(default_factory=set, init=False, repr=False)

    def __call__(self, principal: Principal, video_id: UUID) -> None:
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
class OpenStream:
    """The video's file for a caller allowed to watch it; the view is credited on the side."""

    uow: UnitOfWorkFactory
    storage: Storage
    credits: ViewCredits
    cache: ReadCache = NO_CACHE

    async def __call__(self, principal: Principal, video_id: UUID, *, fresh: bool = False) -> Playable:
        """The video's file and its validators; `fresh` reads the row, not a cached copy of it."""
        video = await cached_video(self.uow, NO_CACHE if fresh else self.cache, principal, video_id)
        if not video.is_playable or video.storage_key is None or video.size_bytes is None:
            raise VideoNotReady
        self.credits(principal, video.id)
        key = video.storage_key
        return Playable.stored(
            self.storage,
            key,
            size=video.size_bytes,
            content_type=video.content_type or "application/octet-stream",
            etag=f'"{video.checksum or key.rsplit("/", 1)[-1]}"',
            last_modified=video.updated_at,
        )


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
