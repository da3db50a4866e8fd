"""A resumable upload: how many bytes are stored, where, and what becomes of them once complete."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from vidplat.domain.uploads.ports import ResumableWrite, WriteState
from vidplat.domain.videos.keys import upload_key


@dataclass(slots=True, kw_only=True)
class ResumableUpload:
    """Offset and the store's write state live in the database so any replica can take the next PATCH."""

    id: UUID
    organization_id: UUID
    created_by: UUID
    length: int
    offset: int = 0
    write_state: WriteState = field(default_factory=dict)
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

    @property
    def target_video_id(self) -> UUID:
        """The video the file is for: the one it replaces, or a new one that takes the upload's id.

        A new video's id is the upload's, so completing twice could only ever add the same row twice:
        the primary key refuses the second.
        """
        return self.replace_video_id or self.id

    @property
    def key(self) -> str:
        """The staging key the complete file is published under, as a multipart upload's would be."""
        return upload_key(self.organization_id, self.target_video_id, self.id)

    def write(self) -> ResumableWrite:
        return ResumableWrite(
            key=self.key,
            scratch=scratch_prefix(self.organization_id, self.id),
            length=self.length,
            offset=self.offset,
            state=self.write_state,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResumableUpload) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


def scratch_prefix(organization_id: UUID, upload_id: UUID) -> str:
    """The store's temporary objects of one upload, outside the prefixes the video sweep judges."""
    return f"orgs/{organization_id}/tus/{upload_id}/"
