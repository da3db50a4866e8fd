"""Resumable uploads: the offset moves only by a conditional update, so two PATCHes cannot both append."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.rows import ResumableUploadRow
from vidplat.domain.uploads.model import ResumableUpload

_FIELDS = tuple(field.name for field in fields(ResumableUpload))


def _upload(row: ResumableUploadRow) -> ResumableUpload:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["parts"] = list(row.parts)
    return ResumableUpload(**values)


class SqlResumableUploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, upload: ResumableUpload) -> None:
        self._session.add(ResumableUploadRow(**{name: getattr(upload, name) for name in _FIELDS}))
        await self._session.flush()

    async def get(self, organization_id: UUID, upload_id: UUID) -> ResumableUpload | None:
        row = await self._session.scalar(
            select(ResumableUploadRow).where(
                ResumableUploadRow.id == upload_id, ResumableUploadRow.organization_id == organization_id
            )
        )
        return _upload(row) if row else None

    async def advance(self, upload: ResumableUpload, offset: int, parts: Sequence[str], now: datetime) -> bool:
        moved = await self._session.scalar(
            update(ResumableUploadRow)
            .where(
                ResumableUploadRow.id == upload.id,
                ResumableUploadRow.offset == upload.offset,
                ResumableUploadRow.video_id.is_(None),
                ResumableUploadRow.expires_at > now,
            )
            .values(offset=offset, parts=list(parts))
            .returning(ResumableUploadRow.id)
        )
        return moved is not None

    async def finish(self, upload_id: UUID, video_id: UUID) -> None:
        await self._session.execute(
            update(ResumableUploadRow).where(ResumableUploadRow.id == upload_id).values(video_id=video_id)
        )

    async def end(self, organization_id: UUID, upload_id: UUID, at: datetime) -> bool:
        ended = await self._session.scalar(
            update(ResumableUploadRow)
            .where(
                ResumableUploadRow.id == upload_id,
                ResumableUploadRow.organization_id == organization_id,
                ResumableUploadRow.expires_at > at,
            )
            .values(expires_at=at)
            .returning(ResumableUploadRow.id)
        )
        return ended is not None

    async def expired(self, now: datetime, limit: int) -> Sequence[ResumableUpload]:
        rows = await self._session.scalars(
            select(ResumableUploadRow)
            .where(ResumableUploadRow.expires_at <= now)
            .order_by(ResumableUploadRow.expires_at)
            .limit(limit)
        )
        return [_upload(row) for row in rows]

    async def reserved_bytes(self, organization_id: UUID) -> int:
        total = await self._session.scalar(
            select(func.coalesce(func.sum(ResumableUploadRow.length), 0)).where(
                ResumableUploadRow.organization_id == organization_id, ResumableUploadRow.video_id.is_(None)
            )
        )
        return int(total or 0)

    async def remove(self, upload_id: UUID) -> None:
        await self._session.execute(delete(ResumableUploadRow).where(ResumableUploadRow.id == upload_id))
