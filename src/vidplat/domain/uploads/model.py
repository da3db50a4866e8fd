"""A resumable upload: how many bytes are stored, where, and what becomes of them once complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from vidplat.domain.ids import new_id


@dataclass(slots=True, kw_only=True)
class ResumableUpload:
    """Offset and parts live in the database so any replica can take the next PATCH.

    `parts` are the storage keys of the stored segments, in order; their sizes add up to `offset`.
    """

    id: UUID
    organization_id: UUID
    created_by: UUID
    length: int
    offset: int = 0
    parts: list[str] = field(default_factory=list)
    title: str
    description: str | None
    filename: str | None
    replace_video_id: UUID | None
    video_id: UUID | None = None
    created_at: datetime
    expires_at: datetime

    @property
    def complete(self) -> bool:
        return self.video_id is not None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResumableUpload) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def parts_prefix(organization_id: UUID, upload_id: UUID) -> str:
    """Every segment of one upload, outside the prefixes the video sweep judges."""
    return f"orgs/{organization_id}/tus/{upload_id}/"


def part_key(upload: ResumableUpload, offset: int) -> str:
    # A fresh suffix per write: two PATCHes racing at one offset never write the same key, and
    # the loser's segment is removed without touching the winner's.
    return f"{parts_prefix(upload.organization_id, upload.id)}{offset:016d}-{new_id()}"
