"""Login sessions and their refresh tokens."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.accounts import user_from_row
from vidplat.adapters.sql.queries import Rows
from vidplat.adapters.sql.rows import RefreshTokenRow, SessionRow, UserRow
from vidplat.domain import topics
from vidplat.domain.accounts.model import RefreshToken, Session, User


def _session(row: SessionRow) -> Session:
    return Session(
        id=row.id,
        user_id=row.user_id,
        organization_id=row.organization_id,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def _token(row: RefreshTokenRow) -> RefreshToken:
    return RefreshToken(
        id=row.id, session_id=row.session_id, token_hash=row.token_hash, created_at=row.created_at, used_at=row.used_at
    )


class SqlSessionRepository:
    def __init__(self, session: AsyncSession, changed: set[str]) -> None:
        self._session = session
        self._rows = Rows(SessionRow, session)
        self._changed = changed

    async def add(self, session: Session) -> None:
        await self._rows.add(
            SessionRow(
                id=session.id,
                user_id=session.user_id,
                organization_id=session.organization_id,
                created_at=session.created_at,
                expires_at=session.expires_at,
                revoked_at=session.revoked_at,
            )
        )

    async def get(self, session_id: UUID) -> Session | None:
        row = await self._rows.get_one_or_none(SessionRow.id == session_id)
        return _session(row) if row else None

    async def revoke(self, session_id: UUID, at: datetime) -> None:
        self._changed.add(topics.session(session_id))
        # The first revocation time is the one that counts.
        await self._session.execute(
            update(SessionRow).where(SessionRow.id == session_id, SessionRow.revoked_at.is_(None)).values(revoked_at=at)
        )

    async def revoke_all_for_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        self._changed.add(topics.user(user_id))
        statement = update(SessionRow).where(SessionRow.user_id == user_id, SessionRow.revoked_at.is_(None))
        if keep is not None:
            statement = statement.where(SessionRow.id != keep)
        await self._session.execute(statement.values(revoked_at=at))

    async def get_principal_user(self, session_id: UUID, now: datetime) -> User | None:
        row = await self._session.scalar(
            select(UserRow)
            .join(SessionRow, SessionRow.user_id == UserRow.id)
            .where(
                SessionRow.id == session_id,
                SessionRow.revoked_at.is_(None),
                SessionRow.expires_at > now,
                UserRow.deleted_at.is_(None),
            )
        )
        return user_from_row(row) if row else None


class SqlRefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = Rows(RefreshTokenRow, session)

    async def add(self, token: RefreshToken) -> None:
        await self._rows.add(
            RefreshTokenRow(
                id=token.id,
                session_id=token.session_id,
                token_hash=token.token_hash,
                created_at=token.created_at,
                used_at=token.used_at,
            )
        )

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        row = await self._rows.get_one_or_none(RefreshTokenRow.token_hash == token_hash)
        return _token(row) if row else None

    async def mark_used(self, token_id: UUID, at: datetime) -> bool:
        spent = await self._session.scalar(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.id == token_id, RefreshTokenRow.used_at.is_(None))
            .values(used_at=at)
            .returning(RefreshTokenRow.id)
        )
        return spent is not None
