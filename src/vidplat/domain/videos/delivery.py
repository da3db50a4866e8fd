"""HLS delivery rules: how long playback tokens last, and playlists that carry the caller's token.

A `<video>` element, hls.js or Safari fetch every playlist and segment with no headers, so a view
that came by token must find it in every URI the playlists name; and a pause or seek must not
outlive it. The token that opens the master playlist is short (VIDPLAT_PLAYBACK_URL_TTL_SECONDS,
to *start* watching); the token written into the playlists lasts the video plus SEGMENT_GRACE.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import quote

SEGMENT_GRACE = timedelta(minutes=30)

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


def _with_token(uri: str, token: str) -> str:
    path, hash_mark, fragment = uri.partition("#")
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}token={quote(token, safe='')}{hash_mark}{fragment}"
