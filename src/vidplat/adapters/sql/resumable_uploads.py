"""Resumable uploads: the offset moves only by conditional updates, so two PATCHes cannot both append."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from uuid import UUID

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.rows import ResumableUploadRow
from vidplat.domain.uploads.model import ResumableUpload
from vidplat.domain.uploads.ports import WriteState

_FIELDS = tuple(field.name for field in fields(ResumableUpload))


def _upload(row: ResumableUploadRow) -> ResumableUpload:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["write_state"] = dict(row.write_state)
    return ResumableUpload(**values)


def _still_at(upload: ResumableUpload, now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The row is where this request found it: same offset, incomplete, live."""
    return (
        ResumableUploadRow.id == upload.id,
        ResumableUploadRow.offset == upload.offset,
        ResumableUploadRow.video_id.is_(None),
        ResumableUploadRow.expires_at > now,
    )


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

    async def claim(self, upload: ResumableUpload, now: datetime) -> int | None:
        claims: int | None = await self._session.scalar(
            update(ResumableUploadRow)
            .where(*_still_at(upload, now))
            .values(claims=ResumableUploadRow.claims + 1)
            .returning(ResumableUploadRow.claims)
        )
        return claims

    async def advance(self, upload: ResumableUpload, offset: int, state: WriteState, now: datetime) -> bool:
        moved = await self._session.scalar(
            update(ResumableUploadRow)
            .where(*_still_at(upload, now))
            .values(offset=offset, write_state=state)
            .returning(ResumableUploadRow.id)
        )
        return moved is not None

    async def complete(self, upload: ResumableUpload, video_id: UUID, now: datetime) -> bool:
        done = await self._session.scalar(
            update(ResumableUploadRow)
            .where(*_still_at(upload, now))
            .values(offset=upload.length, video_id=video_id)
            .returning(ResumableUploadRow.id)
        )
        return done is not None

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
