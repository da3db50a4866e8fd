"""The video catalog."""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Key, Rows, contains
from vidplat.adapters.sql.rows import VideoCountRow, VideoRow
from vidplat.domain import topics
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.videos.model import Video, VideoField, VideoStatus
from vidplat.domain.videos.renditions import Rendition

# A video's row has exactly the entity's fields.
_FIELDS = tuple(field.name for field in fields(Video))


def _values(video: Video, names: Iterable[str] = _FIELDS) -> dict[str, Any]:
    values = {name: getattr(video, name) for name in names}
    if "status" in values:
        values["status"] = video.status.value
    if "renditions" in values:
        values["renditions"] = [asdict(rendition) for rendition in video.renditions]
    return values


def _video(row: VideoRow) -> Video:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["status"] = VideoStatus(row.status)
    values["renditions"] = tuple(Rendition(**rendition) for rendition in row.renditions)
    return Video(**values)


class SqlVideoRepository:
    def __init__(self, session: AsyncSession, changed: set[str]) -> None:
        self._session = session
        self._rows = Rows(VideoRow, session)
        self._changed = changed

    async def add(self, video: Video) -> None:
        self._changed.add(topics.videos(video.organization_id))
        await self._rows.add(VideoRow(**_values(video)))

    async def update(self, video: Video, *fields: VideoField) -> None:
        if not fields:
            return
        self._changed.add(topics.videos(video.organization_id))
        await self._session.execute(
            update(VideoRow)
            .where(VideoRow.id == video.id, VideoRow.organization_id == video.organization_id)
            .values(_values(video, fields))
        )
        if "purged_at" in fields and video.purged_at is not None:
            # A purged video leaves the trash but keeps deleted_at, which the counts' triggers follow;
            # purging happens once per row (purgeable locks unpurged rows only) and nothing changes it after.
            await self._session.execute(
                update(VideoCountRow)
                .where(VideoCountRow.organization_id == video.organization_id)
                .values(trashed=VideoCountRow.trashed - 1)
            )

    async def get(
        self, organization_id: UUID, video_id: UUID, *, deleted: bool = False, for_update: bool = False
    ) -> Video | None:
        return await self._one(
            VideoRow.id == video_id, VideoRow.organization_id == organization_id, _trashed(deleted), lock=for_update
        )

    async def get_any(self, video_id: UUID, *, for_update: bool = False) -> Video | None:
        return await self._one(VideoRow.id == video_id, lock=for_update)

    async def _one(self, *filters: ColumnElement[bool], lock: bool) -> Video | None:
        query = select(VideoRow).where(*filters)
        if lock:
            # NO KEY UPDATE: the key never changes, so the credits' foreign-key checks need not wait.
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        row = await self._session.scalar(query)
        return _video(row) if row else None

    async def stuck_processing(self, older_than: datetime, limit: int) -> Sequence[Video]:
        rows = await self._session.scalars(
            select(VideoRow)
            .where(VideoRow.pending_key.is_not(None), VideoRow.updated_at < older_than)
            .order_by(VideoRow.updated_at.asc(), VideoRow.id.asc())
            .limit(limit)
        )
        return [_video(row) for row in rows]

    async def set_progress(self, video: Video, progress: int) -> bool:
        if video.pending_key is None:
            return False
        # Conditional, and only this column: a concurrent edit, trash or newer upload is never written over.
        written = await self._session.scalar(
            update(VideoRow)
            .where(VideoRow.id == video.id, VideoRow.pending_key == video.pending_key)
            .values(progress=progress)
            .returning(VideoRow.id)
        )
        if written is None:
            return False
        self._changed.add(topics.videos(video.organization_id))
        return True

    async def storage_bytes(self, organization_id: UUID) -> int:
        served = case((VideoRow.storage_key.is_not(None), func.coalesce(VideoRow.size_bytes, 0)), else_=0)
        total = await self._session.scalar(
            select(func.coalesce(func.sum(served + func.coalesce(VideoRow.pending_bytes, 0)), 0)).where(
                VideoRow.organization_id == organization_id, VideoRow.purged_at.is_(None)
            )
        )
        return int(total or 0)

    async def purgeable(self, deleted_before: datetime, limit: int) -> Sequence[Video]:
        # SKIP LOCKED: a second purge takes the next rows instead of waiting for these. SQLite
        # renders nothing and needs nothing: its writing transactions run one at a time.
        rows = await self._session.scalars(
            select(VideoRow)
            .where(VideoRow.deleted_at < deleted_before, VideoRow.purged_at.is_(None))
            .order_by(VideoRow.deleted_at.asc(), VideoRow.id.asc())
            .limit(limit)
            .with_for_update(skip_locked=True, key_share=True)
            .execution_options(populate_existing=True)
        )
        return [_video(row) for row in rows]

    async def list(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        statuses: Sequence[VideoStatus] | None,
        title_query: str | None,
        deleted: bool = False,
        total: int | None = None,
    ) -> Page[Video]:
        filters = _listing(organization_id, statuses, title_query, deleted)
        return await self._rows.page(page, _video, *filters, key=_KEY, newest_first=True, total=total)

    async def count(
        self,
        organization_id: UUID,
        *,
        statuses: Sequence[VideoStatus] | None,
        title_query: str | None,
        deleted: bool = False,
    ) -> int:
        if title_query or (deleted and statuses is not None):
            # A search counts its matches (the trigram index finds them).
            return await self._rows.count_matching(*_listing(organization_id, statuses, title_query, deleted))
        # Otherwise one row: the organization's counts, which triggers on videos keep (video_counts).
        if deleted:
            counted = VideoCountRow.trashed
        else:
            columns = [getattr(VideoCountRow, status.value) for status in (statuses or list(VideoStatus))]
            counted = functools.reduce(operator.add, columns)
        total = await self._session.scalar(select(counted).where(VideoCountRow.organization_id == organization_id))
        return int(total or 0)


_KEY = Key((VideoRow.created_at,), VideoRow.id)


def _listing(
    organization_id: UUID, statuses: Sequence[VideoStatus] | None, title_query: str | None, deleted: bool
) -> list[ColumnElement[bool]]:
    """The filters that ix_videos_live_page / ix_videos_trash_page (and the title's trigram index) serve."""
    filters = [VideoRow.organization_id == organization_id, _trashed(deleted)]
    if statuses is not None:
        filters.append(VideoRow.status.in_([status.value for status in statuses]))
    if title_query:
        filters.append(contains(VideoRow.title, title_query))
    return filters


def _trashed(deleted: bool) -> ColumnElement[bool]:
    if deleted:
        return VideoRow.deleted_at.is_not(None) & VideoRow.purged_at.is_(None)
    return VideoRow.deleted_at.is_(None)
