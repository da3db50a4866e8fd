"""UrlSigner on HMAC-SHA256: playback grants that work without an Authorization header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime
from uuid import UUID

from vidplat.domain.errors import InvalidToken
from vidplat.domain.videos.model import PlaybackClaims, PlaybackKind

# version (1 byte) | kind (1) | user id (16) | session id (16) | video id (16) | expiry, unix seconds (8, big-endian)
_LAYOUT = struct.Struct(">BB16s16s16sq")
# 1 carried no session, so its tokens outlived logouts; 2 no kind, so every token could start a view.
_VERSION = 3
_KINDS = {PlaybackKind.START: 0, PlaybackKind.VIEW: 1}
_KIND_OF = {code: kind for kind, code in _KINDS.items()}


class HmacUrlSigner:
    """Token = base64url(payload) "." base64url(HMAC-SHA256(key, payload))."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, claims: PlaybackClaims, video_id: UUID) -> str:
        payload = _LAYOUT.pack(
            _VERSION,
            _KINDS[claims.kind],
            claims.user_id.bytes,
            claims.session_id.bytes,
            video_id.bytes,
            int(claims.expires_at.timestamp()),
        )
        return f"{_encode(payload)}.{_encode(self._mac(payload))}"

    def verify(self, token: str, video_id: UUID, now: datetime) -> PlaybackClaims:
        body, _, signature = token.partition(".")
        payload = _decode(body)
        if not hmac.compare_digest(_decode(signature), self._mac(payload)) or len(payload) != _LAYOUT.size:
            raise InvalidToken
        version, kind, user, session, video, expires = _LAYOUT.unpack(payload)
        if version != _VERSION or kind not in _KIND_OF or video != video_id.bytes or now.timestamp() >= expires:
            raise InvalidToken
        return PlaybackClaims(
            user_id=UUID(bytes=user),
            session_id=UUID(bytes=session),
            kind=_KIND_OF[kind],
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, payload, hashlib.sha256)


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    """Strict base64url: the lenient stdlib decoder skips stray characters, which would make tokens malleable."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:  # binascii.Error and non-ASCII input are both ValueErrors
        raise InvalidToken from exc
    if _encode(raw) != text:
        raise InvalidToken
    return raw
