"""Watching by HLS: the playlists, rewritten to carry a view token, and the files they name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import HlsFileNotFound, VideoNotReady
from vidplat.domain.ports import Clock, ReadCache, Storage, StoredObject, UnitOfWorkFactory, UrlSigner
from vidplat.domain.topics import NO_CACHE
from vidplat.domain.videos.catalog import cached_video
from vidplat.domain.videos.delivery import (
    HlsFile,
    HlsFileKind,
    carry_token,
    carry_token_in_track,
    segment_expires_at,
)
from vidplat.domain.videos.keys import hls_prefix
from vidplat.domain.videos.model import PlaybackKind, Video
from vidplat.domain.videos.playback import Playable, PlaybackPass, ViewCredits

# Playlists and tracks are a few kilobytes; anything larger is not what the transcoder wrote.
MAX_PLAYLIST_BYTES = 1024 * 1024


async def _hls_video(
    uow: UnitOfWorkFactory, cache: ReadCache, principal: Principal, video_id: UUID, file: HlsFile, *, fresh: bool
) -> tuple[Video, str]:
    """The caller's video and the key of the file, when the served file has renditions and names it."""
    video = await cached_video(uow, NO_CACHE if fresh else cache, principal, video_id)
    if not video.is_playable or video.storage_key is None or not video.renditions:
        raise VideoNotReady("The video has no HLS renditions (yet): play its progressive `url` meanwhile.")
    if file.rendition is not None and file.rendition not in {r.name for r in video.renditions}:
        raise HlsFileNotFound
    return video, hls_prefix(video.storage_key) + file.path


async def _head(storage: Storage, heads: ReadCache, key: str, *, fresh: bool) -> StoredObject:
    """The stored file; missing from a row just read, it does not exist (from a cached row, ask again fresh).

    A key names files written once (a replacement writes under a new prefix), so what the store
    said about one stays true while it exists: a cached row may use a cached head. A fresh row
    asks the store, since the cached head may describe a file a replacement has since deleted.
    """
    try:
        if fresh:
            return await storage.head(key)
        return await heads.get_or_load(key, (), lambda: storage.head(key))
    except FileNotFoundError:
        if fresh:
            raise HlsFileNotFound from None
        raise


@dataclass(frozen=True, slots=True)
class ReadPlaylist:
    """The master or a variant playlist, or the storyboard track, with a view token in every URI it names.

    A caller that came by bearer token gets the playlist as stored: its player sends the header.
    """

    uow: UnitOfWorkFactory
    storage: Storage
    signer: UrlSigner
    clock: Clock
    cache: ReadCache = NO_CACHE
    heads: ReadCache = NO_CACHE

    async def __call__(
        self,
        principal: Principal,
        video_id: UUID,
        file: HlsFile,
        presented: PlaybackPass | None,
        *,
        fresh: bool = False,
    ) -> str:
        if not file.kind.is_playlist:
            raise HlsFileNotFound
        video, key = await _hls_video(self.uow, self.cache, principal, video_id, file, fresh=fresh)
        size = min((await _head(self.storage, self.heads, key, fresh=fresh)).size, MAX_PLAYLIST_BYTES)
        text = b"".join([chunk async for chunk in self.storage.read(key, 0, size)]).decode("utf-8", "replace")
        if presented is None:
            return text
        token = self._view_token(presented, video)
        return carry_token_in_track(text, token) if file.kind is HlsFileKind.TRACK else carry_token(text, token)

    def _view_token(self, presented: PlaybackPass, video: Video) -> str:
        """The presented view token as it is, or a view token for this view minted from a start token."""
        if presented.claims.kind is PlaybackKind.VIEW:
            return presented.token
        until = segment_expires_at(self.clock.now(), video.duration_seconds or 0.0, presented.claims.expires_at)
        return self.signer.sign(replace(presented.claims, kind=PlaybackKind.VIEW, expires_at=until), video.id)


@dataclass(frozen=True, slots=True)
class OpenHlsFile:
    """An init segment, a media segment or the storyboard sprite; the first media segment credits the view."""

    uow: UnitOfWorkFactory
    storage: Storage
    credits: ViewCredits
    cache: ReadCache = NO_CACHE
    heads: ReadCache = NO_CACHE

    async def __call__(self, principal: Principal, video_id: UUID, file: HlsFile, *, fresh: bool = False) -> Playable:
        if file.kind.is_playlist:
            raise HlsFileNotFound
        video, key = await _hls_video(self.uow, self.cache, principal, video_id, file, fresh=fresh)
        stored = await _head(self.storage, self.heads, key, fresh=fresh)
        if file.kind is HlsFileKind.SEGMENT:
            # Playlists and init segments are fetched before a frame shows; a media segment is watching.
            self.credits(principal, video.id)
        return Playable.stored(
            self.storage,
            key,
            size=stored.size,
            content_type=file.content_type,
            # The key names one upload's renditions, written once: it identifies these bytes.
            etag=f'"{hashlib.blake2b(key.encode(), digest_size=12).hexdigest()}"',
            last_modified=stored.last_modified,
        )
