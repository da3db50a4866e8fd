"""Storage keys: generated here from ids only, so no user input ever reaches a path."""

from __future__ import annotations

from uuid import UUID


def upload_key(organization_id: UUID, video_id: UUID, upload_id: UUID) -> str:
    return f"orgs/{organization_id}/uploads/{video_id}/{upload_id}"


def media_key(staged_key: str) -> str:
    """Where a processed upload lives: same ids, under videos/ instead of uploads/."""
    return staged_key.replace("/uploads/", "/videos/", 1)


def thumbnail_key(media: str) -> str:
    return f"{media}.jpg"


def hls_prefix(media: str) -> str:
    """Where a published file's renditions live: master.m3u8, one folder per rendition, the storyboard."""
    return f"{media}.hls/"
