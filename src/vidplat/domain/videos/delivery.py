"""HLS delivery rules: how long playback tokens last, playlists that carry them, and the files a view may name.

Players that cannot send headers (`<video src>`, hls.js, Safari's native HLS, `<img>`, `<track>`)
authenticate by a signed token in the URL. URLs leak (history, proxies, shared screens), so a
token must die quickly; a view must not (a pause or a seek half an hour in must not 401). Both
hold with two kinds of token, signed into the token so a holder cannot change it:

- A **start** token (POST /playback's `hls_url` and `thumbnail_url`) lasts
  VIDPLAT_PLAYBACK_URL_TTL_SECONDS: the window to *start* watching.
- A **view** token lasts the video's duration plus SEGMENT_GRACE from when the view started.
  Every playlist vidplat serves (master, variant, storyboard track) writes a view token into the
  URIs it names: the one presented if it is already a view token, else one minted from the start
  token (`segment_expires_at`). A view token is only ever carried on, never renewed, so however a
  holder replays it, no token outlives issue + TTL + duration + SEGMENT_GRACE; re-reading a
  playlist never extends a view, and a fresh view needs a fresh, authenticated POST /playback.
- The progressive `url` is one URL the element re-requests for every range, with no playlist
  to hand it a fresh token, so it carries the view token the master would have minted at the
  last moment it could be opened: valid until the start window's end plus duration plus grace
  (the same bound as an HLS view). Both kinds open every file of their own video only.

Every token names the login session it was issued in and dies with it (RedeemPlayback checks
the session, cached until a logout, password change or deletion announces itself).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, auto
from urllib.parse import quote

from vidplat.domain.errors import HlsFileNotFound

SEGMENT_GRACE = timedelta(minutes=30)

# The layout the transcoder writes under keys.hls_prefix(storage_key).
MASTER = "master.m3u8"
VARIANT = "index.m3u8"
INIT = "init.mp4"
SPRITE = "storyboard.jpg"
TRACK = "storyboard.vtt"
_RENDITION = re.compile(r"[0-9]{1,5}p")
_SEGMENT = re.compile(r"seg_[0-9]{5,9}\.m4s")
# URI="..." attributes of tags (EXT-X-MAP, EXT-X-MEDIA, EXT-X-I-FRAME-STREAM-INF, ...).
_URI_ATTRIBUTE = re.compile(r'URI="([^"]*)"')


def start_expires_at(now: datetime, ttl: timedelta) -> datetime:
    """Until when a freshly issued playback token may open the master playlist."""
    return now + ttl


def segment_expires_at(now: datetime, duration_seconds: float, presented_expires_at: datetime) -> datetime:
    """Until when the token handed to a playlist's segments stays valid: the whole video plus the grace.

    Never earlier than the token presented, so re-reading a playlist cannot shorten a view.
    """
    return max(presented_expires_at, now + timedelta(seconds=max(0.0, duration_seconds)) + SEGMENT_GRACE)


def carry_token(playlist: str, token: str) -> str:
    """The playlist with `token=` added to every URI it names, as a relative URI's query."""
    lines = []
    for line in playlist.splitlines():
        stripped = line.strip()
        if not stripped:
            lines.append(line)
        elif stripped.startswith("#"):
            lines.append(_URI_ATTRIBUTE.sub(lambda match: f'URI="{_with_token(match.group(1), token)}"', line))
        else:
            lines.append(_with_token(stripped, token))
    return "\n".join(lines) + ("\n" if playlist.endswith("\n") else "")


def carry_token_in_track(track: str, token: str) -> str:
    """A WebVTT thumbnail track with `token=` added to each cue's image URI (the line after its timing)."""
    lines = track.splitlines()
    for index in range(1, len(lines)):
        if "-->" in lines[index - 1] and lines[index].strip():
            lines[index] = _with_token(lines[index].strip(), token)
    return "\n".join(lines) + ("\n" if track.endswith("\n") else "")


def _with_token(uri: str, token: str) -> str:
    path, hash_mark, fragment = uri.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}token={quote(token, safe='')}{hash_mark}{fragment}"


class HlsFileKind(Enum):
    MASTER = auto()
    VARIANT = auto()
    INIT = auto()
    SEGMENT = auto()
    TRACK = auto()
    SPRITE = auto()

    @property
    def is_playlist(self) -> bool:
        """Text vidplat rewrites with the caller's token, rather than bytes it serves as stored."""
        return self in (HlsFileKind.MASTER, HlsFileKind.VARIANT, HlsFileKind.TRACK)


_CONTENT_TYPES = {
    HlsFileKind.MASTER: "application/vnd.apple.mpegurl",
    HlsFileKind.VARIANT: "application/vnd.apple.mpegurl",
    HlsFileKind.INIT: "video/mp4",
    HlsFileKind.SEGMENT: "video/iso.segment",
    HlsFileKind.TRACK: "text/vtt",
    HlsFileKind.SPRITE: "image/jpeg",
}


@dataclass(frozen=True, slots=True)
class HlsFile:
    """One file of a video's HLS tree, by a name checked against the transcoder's layout: never raw user input."""

    kind: HlsFileKind
    path: str  # relative to keys.hls_prefix(storage_key)
    rendition: str | None = None

    @classmethod
    def of(cls, kind: HlsFileKind) -> HlsFile:
        """The master playlist or the storyboard's track or sprite, at the top of the tree."""
        return cls(kind, {HlsFileKind.MASTER: MASTER, HlsFileKind.TRACK: TRACK, HlsFileKind.SPRITE: SPRITE}[kind])

    @classmethod
    def in_rendition(cls, rendition: str, name: str) -> HlsFile:
        """A rendition's playlist, init segment or media segment; HlsFileNotFound for any other name."""
        if _RENDITION.fullmatch(rendition):
            if name == VARIANT:
                return cls(HlsFileKind.VARIANT, f"{rendition}/{name}", rendition)
            if name == INIT:
                return cls(HlsFileKind.INIT, f"{rendition}/{name}", rendition)
            if _SEGMENT.fullmatch(name):
                return cls(HlsFileKind.SEGMENT, f"{rendition}/{name}", rendition)
        raise HlsFileNotFound

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self.kind]
