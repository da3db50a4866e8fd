"""In-memory fakes of every port but persistence (that is fake_store, re-exported here); no I/O at all."""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Collection, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

from tests.plans import PAID, TRIAL
from tests.unit.fake_store import FakeUnitOfWork, InMemoryStore
from vidplat.domain.accounts.model import AccessClaims, Role
from vidplat.domain.errors import InvalidToken, PayloadTooLarge
from vidplat.domain.ports import Held, LockUnavailable, StoredObject, TranscodeFailed, UnreadableMedia
from vidplat.domain.videos.model import MediaInfo, PlaybackClaims, PlaybackKind
from vidplat.domain.videos.renditions import Rendition, Rung, TranscodeResult, select_renditions

__all__ = [
    "PAID",
    "T0",
    "TRIAL",
    "FakeClock",
    "FakeHasher",
    "FakeJobQueue",
    "FakeLock",
    "FakeMediaProbe",
    "FakeStorage",
    "FakeTokenCodec",
    "FakeUnitOfWork",
    "FakeUrlSigner",
    "InMemoryStore",
]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to; always timezone-aware UTC."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = _utc(start)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = _utc(when)

    def advance(self, delta: timedelta = timedelta(0), /, **parts: float) -> datetime:
        """Move forward by `delta` and/or timedelta keywords (`advance(days=16)`); returns the new now."""
        self._now += delta + timedelta(**parts)
        return self._now


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("FakeClock needs an aware datetime")
    return when.astimezone(UTC)


class FakeHasher:
    """Cheap and transparent: the hash of `pw` is "hashed:pw"; every call is recorded."""

    PREFIX = "hashed:"

    def __init__(self) -> None:
        self.hashed: list[str] = []
        self.verified: list[tuple[str, str]] = []

    async def hash(self, password: str) -> str:
        self.hashed.append(password)
        return self.PREFIX + password

    async def verify(self, password_hash: str, password: str) -> bool:
        self.verified.append((password_hash, password))
        return password_hash == self.PREFIX + password


def _seal(payload: str) -> str:
    return f"{payload}~{hashlib.sha256(b'fake-key|' + payload.encode()).hexdigest()[:16]}"


def _unseal(token: str, kind: str, fields: int) -> list[str]:
    """The fields of a sealed token of that kind; InvalidToken when malformed or tampered with."""
    payload, _, _ = token.rpartition("~")
    parts = payload.split("|")
    if _seal(payload) != token or parts[0] != kind or len(parts) != fields + 1:
        raise InvalidToken
    return parts[1:]


class FakeTokenCodec:
    """Readable, deterministic access tokens with a checksum, honouring the expiry against `now`."""

    def encode_access(self, claims: AccessClaims) -> str:
        fields = (claims.user_id, claims.organization_id, claims.session_id, claims.role.value)
        stamps = (claims.issued_at.isoformat(), claims.expires_at.isoformat())
        return _seal("|".join(["access", *map(str, fields), *stamps]))

    def decode_access(self, token: str, now: datetime) -> AccessClaims:
        user, org, session, role, issued, expires = _unseal(token, "access", 6)
        claims = AccessClaims(
            user_id=UUID(user),
            organization_id=UUID(org),
            session_id=UUID(session),
            role=Role(role),
            issued_at=datetime.fromisoformat(issued),
            expires_at=datetime.fromisoformat(expires),
        )
        if now >= claims.expires_at:
            raise InvalidToken
        return claims


class FakeUrlSigner:
    """Grants bound to (user, session, kind, expiry, video); tampered, other-video or expired ones are refused."""

    def sign(self, claims: PlaybackClaims, video_id: UUID) -> str:
        fields = (claims.user_id, claims.session_id, claims.kind.value, video_id, claims.expires_at.isoformat())
        return _seal("|".join(["play", *map(str, fields)]))

    def verify(self, token: str, video_id: UUID, now: datetime) -> PlaybackClaims:
        user, session, kind, video, expires = _unseal(token, "play", 5)
        claims = PlaybackClaims(
            user_id=UUID(user),
            session_id=UUID(session),
            kind=PlaybackKind(kind),
            expires_at=datetime.fromisoformat(expires),
        )
        if UUID(video) != video_id or now >= claims.expires_at:
            raise InvalidToken
        return claims


class FakeLock:
    """The Lock port in this event loop, done marks included; `unavailable=True` makes every call fail.

    `attempts` lists every key asked for, `held` each key as it was taken, `batches` the keys of
    each hold_free call, `done` the keys left done. `hold` is how a test plays another process
    holding a key.
    """

    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable
        self.attempts: list[str] = []
        self.held: list[str] = []
        self.batches: list[list[str]] = []
        self.done: set[str] = set()
        self._holding: set[str] = set()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        assert key not in self._holding, f"{key!r} is held already"
        self._holding.add(key)
        try:
            yield
        finally:
            self._holding.discard(key)

    @asynccontextmanager
    async def hold_free(self, keys: Collection[str]) -> AsyncIterator[Held]:
        self.attempts.extend(keys)
        self.batches.append(list(keys))
        if self.unavailable:
            raise LockUnavailable("fake lock is unavailable")
        held = Held(frozenset(keys) - self._holding - self.done, frozenset(keys) & self.done)
        self.held.extend(key for key in keys if key in held.keys)
        self._holding |= held.keys
        try:
            yield held
        finally:
            self._holding -= held.keys
            self.done |= held.keys & held.finished


class FakeJobQueue:
    """Records what was enqueued; set `error` to make enqueueing fail."""

    def __init__(self) -> None:
        self.enqueued: list[tuple[UUID, str]] = []
        self.deliveries: list[tuple[UUID, int]] = []
        self.error: Exception | None = None

    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        if self.error is not None:
            raise self.error
        self.enqueued.append((video_id, upload_key))

    async def enqueue_webhook_delivery(self, delivery_id: UUID, attempts: int) -> None:
        if self.error is not None:
            raise self.error
        self.deliveries.append((delivery_id, attempts))


class FakeStorage:
    """A dict of bytes. `write` is atomic: a failed write (too large or any error) keeps nothing.

    Objects remember when they were written by the clock it is given, for the sweeps.
    """

    def __init__(self, chunk_size: int = 1024, clock: FakeClock | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.modified: dict[str, datetime] = {}
        self.deleted: list[str] = []
        self.chunk_size = chunk_size
        self.clock = clock or FakeClock()
        self.write_error: Exception | None = None

    async def write(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        buffer = bytearray()
        async for chunk in chunks:
            buffer += chunk
            if len(buffer) > max_bytes:
                raise PayloadTooLarge
        if self.write_error is not None:
            raise self.write_error
        self._set(key, bytes(buffer))
        return len(buffer)

    async def put_bytes(self, key: str, data: bytes) -> None:
        self._set(key, data)

    async def put_file(self, key: str, path: Path) -> None:
        self._set(key, await asyncio.to_thread(path.read_bytes))

    async def move(self, source: str, target: str) -> None:
        self._set(target, self._get(source))
        del self.files[source]

    async def delete(self, key: str) -> None:
        self.deleted.append(key)
        self.files.pop(key, None)

    async def delete_prefix(self, prefix: str) -> int:
        keys = [key for key in self.files if key.startswith(prefix)]
        for key in keys:
            await self.delete(key)
        return len(keys)

    async def exists(self, key: str) -> bool:
        return key in self.files

    async def head(self, key: str) -> StoredObject:
        size = len(self._get(key))
        # A test may put bytes into `files` directly: they count as written now.
        modified = self.modified.setdefault(key, self.clock.now())
        return StoredObject(key=key, size=size, etag=None, last_modified=modified)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        for key in [key for key in self.files if key.startswith(prefix)]:
            yield await self.head(key)

    async def read(self, key: str, start: int, length: int) -> AsyncGenerator[bytes, None]:
        data = self._get(key)[start : start + length]
        for at in range(0, len(data), self.chunk_size):
            yield data[at : at + self.chunk_size]

    async def checksum(self, key: str) -> str:
        return hashlib.sha256(self._get(key)).hexdigest()

    async def presign_get(self, key: str, ttl: timedelta) -> str | None:
        return f"https://store.example/{key}?expires={int(ttl.total_seconds())}"

    async def sweep_temporary(self, older_than: timedelta) -> int:
        return 0  # writes are atomic here: nothing unfinished is ever left

    def _set(self, key: str, data: bytes) -> None:
        self.files[key] = data
        self.modified[key] = self.clock.now()

    def _get(self, key: str) -> bytes:
        if key not in self.files:
            raise FileNotFoundError(key)
        return self.files[key]


DEFAULT_MEDIA = MediaInfo(
    duration_seconds=12.5,
    width=1280,
    height=720,
    video_codec="h264",
    audio_codec="aac",
    content_type="video/mp4",
    extension="mp4",
)
UNREADABLE = b"<unreadable>"
"""Bytes containing this marker are a video container the probe cannot read."""


class FakeMediaProbe:
    """Opens objects of a FakeStorage; keys marked bad or bytes with UNREADABLE fail."""

    def __init__(self, storage: FakeStorage, info: MediaInfo = DEFAULT_MEDIA) -> None:
        self.storage = storage
        self.info = info
        self.bad_keys: set[str] = set()
        self.probed: list[str] = []
        self.thumbnails: list[tuple[str, float]] = []

    def mark_bad(self, key: str) -> None:
        self.bad_keys.add(key)

    @asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[FakeMediaFile]:
        if key not in self.storage.files:
            raise FileNotFoundError(key)
        with tempfile.TemporaryDirectory() as directory:  # the local copy the transcoder reads
            path = Path(directory, "source")
            await asyncio.to_thread(path.write_bytes, self.storage.files[key])
            yield FakeMediaFile(self, key, path)

    async def probe(self, key: str) -> MediaInfo:
        self.probed.append(self._readable(key))
        return self.info

    async def thumbnail(self, key: str, at_seconds: float) -> bytes:
        self.thumbnails.append((self._readable(key), at_seconds))
        return b"\xff\xd8\xff" + f"thumbnail of {key} at {at_seconds:.2f}s".encode()

    def _readable(self, key: str) -> str:
        data = self.storage.files.get(key)
        if data is None:
            raise FileNotFoundError(key)
        if key in self.bad_keys or UNREADABLE in data:
            raise UnreadableMedia("The file has no readable video stream.")
        return key


class FakeMediaFile:
    def __init__(self, probe: FakeMediaProbe, key: str, path: Path) -> None:
        self._probe, self._key, self.path = probe, key, path

    async def probe(self) -> MediaInfo:
        return await self._probe.probe(self._key)

    async def thumbnail(self, at_seconds: float) -> bytes:
        return await self._probe.thumbnail(self._key, at_seconds)


UNTRANSCODABLE = b"<untranscodable>"
"""Bytes containing this marker probe fine but fail the transcode (e.g. damage past the first frames)."""
FAKE_HLS_FILES = ("master.m3u8", "storyboard.jpg", "storyboard.vtt")
FAKE_RENDITION_FILES = ("index.m3u8", "init.mp4", "seg_00000.m4s", "seg_00001.m4s")


class FakeTranscoder:
    """Writes a small HLS tree (named as the real one names it) for the ladder at DEFAULT_MEDIA's size.

    It reports `percents` to on_progress in order, calling `during` (if set) before each, so a test
    can act mid-transcode. A source with UNTRANSCODABLE in it fails with a reason.
    """

    def __init__(self, percents: Sequence[int] = (3, 20, 40, 41, 60, 80, 100)) -> None:
        self.percents = percents
        self.sources: list[bytes] = []
        self.during: Callable[[int], Awaitable[None]] | None = None

    async def transcode(
        self,
        source: Path,
        out_dir: Path,
        ladder: Sequence[Rung],
        on_progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> TranscodeResult:
        data = await asyncio.to_thread(source.read_bytes)
        self.sources.append(data)
        if UNTRANSCODABLE in data:
            raise TranscodeFailed("The video data is damaged or incomplete.")
        renditions = select_renditions(DEFAULT_MEDIA.width, DEFAULT_MEDIA.height, ladder)
        for percent in self.percents:
            if self.during is not None:
                await self.during(percent)
            if on_progress is not None:
                await on_progress(percent)
        await asyncio.to_thread(_write_tree, out_dir, renditions)
        return TranscodeResult(renditions=renditions, duration_seconds=DEFAULT_MEDIA.duration_seconds, has_audio=True)


def fake_hls_keys(prefix: str, renditions: Sequence[Rendition]) -> set[str]:
    """The keys FakeTranscoder's tree lands on under an hls prefix."""
    keys = {prefix + name for name in FAKE_HLS_FILES}
    return keys | {f"{prefix}{r.name}/{name}" for r in renditions for name in FAKE_RENDITION_FILES}


def _write_tree(out_dir: Path, renditions: Sequence[Rendition]) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in FAKE_HLS_FILES:
        (out_dir / name).write_text(f"fake {name}")
    for rendition in renditions:
        (out_dir / rendition.name).mkdir()
        for name in FAKE_RENDITION_FILES:
            (out_dir / rendition.name / name).write_text(f"fake {rendition.name}/{name}")


class FakeScratchSpace:
    """Temporary directories, removed after their block; remembers the names asked for."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @asynccontextmanager
    async def directory(self, name: str) -> AsyncIterator[Path]:
        self.names.append(name)
        with tempfile.TemporaryDirectory() as directory:
            yield Path(directory)
