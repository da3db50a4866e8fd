"""Video entity and the media facts a probe extracts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from vidplat.domain.errors import InvalidInput
from vidplat.domain.videos.renditions import Rendition

MAX_TITLE = 250
MAX_DESCRIPTION = 5000


class VideoStatus(StrEnum):
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


def clean_title(raw: str) -> str:
    title = raw.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput("title", f"must be 1 to {MAX_TITLE} characters")
    return title


def clean_description(raw: str | None) -> str | None:
    if raw is None:
        return None
    if len(raw) > MAX_DESCRIPTION:
        raise InvalidInput("description", f"must be at most {MAX_DESCRIPTION} characters")
    return raw


class PlaybackKind(StrEnum):
    """What a playback token is for (see domain/videos/delivery.py): starting a view, or carrying one on."""

    START = "start"
    VIEW = "view"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackClaims:
    """Whom a playback token was issued to (a user, in one login session it dies with), what for, until when."""

    user_id: UUID
    session_id: UUID
    kind: PlaybackKind
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaInfo:
    duration_seconds: float
    width: int
    height: int
    video_codec: str
    audio_codec: str | None
    content_type: str
    extension: str


# What a use case may write back to a video (its identity, uploader and creation never change).
VideoField = Literal[
    "title",
    "description",
    "status",
    "updated_at",
    "storage_key",
    "pending_key",
    "thumbnail_key",
    "failure_reason",
    "duration_seconds",
    "width",
    "height",
    "size_bytes",
    "content_type",
    "video_codec",
    "audio_codec",
    "checksum",
    "deleted_at",
    "pending_bytes",
    "purged_at",
    "progress",
    "renditions",
]


@dataclass(eq=False, kw_only=True)
class Video:
    """A video of one organization.

    `storage_key` is the file being served (None until the first upload is ready);
    `pending_key` is an upload waiting for processing, which replaces the served file
    only once it has been processed successfully. A purged video is a tombstone: no files.
    """

    id: UUID
    organization_id: UUID
    title: str
    description: str | None
    status: VideoStatus
    uploaded_by: UUID
    created_at: datetime
    updated_at: datetime
    storage_key: str | None = None
    pending_key: str | None = None
    thumbnail_key: str | None = None
    failure_reason: str | None = None
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    size_bytes: int | None = None
    content_type: str | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    checksum: str | None = None
    deleted_at: datetime | None = None
    pending_bytes: int | None = None  # the size of the pending upload, which counts toward the quota
    purged_at: datetime | None = None  # left the trash for good: files removed, row kept for its credits
    progress: int | None = None  # 0..100 while processing, 100 once ready, None after a failure
    # The HLS renditions of the served file (under hls_prefix(storage_key)); empty until it has them.
    renditions: tuple[Rendition, ...] = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Video) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_playable(self) -> bool:
        return self.storage_key is not None and not self.is_deleted

    @property
    def replacement_pending(self) -> bool:
        return self.pending_key is not None and self.storage_key is not None
