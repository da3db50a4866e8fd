"""Organizations and users."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import cast
from uuid import UUID

from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Key, Rows, contains
from vidplat.adapters.sql.rows import OrganizationRow, UserCountRow, UserRow
from vidplat.domain import topics
from vidplat.domain.accounts.model import Organization, Role, User, UserField, org_name_key
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.rewards.model import Standing


def _organization(row: OrganizationRow) -> Organization:
    return Organization(id=row.id, name=row.name, slug=row.slug, created_at=row.created_at)


def user_from_row(row: UserRow) -> User:
    return User(
        id=row.id,
        organization_id=row.organization_id,
        email=row.email,
        role=Role(row.role),
        password_hash=row.password_hash,
        created_at=row.created_at,
        points=row.points,
        deleted_at=row.deleted_at,
    )


class SqlOrganizationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows = Rows(OrganizationRow, session)

    async def add(self, organization: Organization) -> None:
        row = OrganizationRow(
            id=organization.id,
            name=organization.name,
            name_key=org_name_key(organization.name),
            slug=organization.slug,
            created_at=organization.created_at,
        )
        await self._rows.add(row)

    async def get(self, organization_id: UUID) -> Organization | None:
        row = await self._rows.get_one_or_none(OrganizationRow.id == organization_id)
        return _organization(row) if row else None

    async def get_by_slug(self, slug: str) -> Organization | None:
        row = await self._rows.get_one_or_none(OrganizationRow.slug == slug)
        return _organization(row) if row else None

    async def name_exists(self, name: str) -> bool:
        return await self._rows.exists(OrganizationRow.name_key == org_name_key(name))

    async def slug_exists(self, slug: str) -> bool:
        return await self._rows.exists(OrganizationRow.slug == slug)

    async def lock(self, organization_id: UUID) -> None:
        # SQLite renders no FOR UPDATE; it needs none, every transaction there holds the write lock.
        await self._session.execute(
            select(OrganizationRow.id).where(OrganizationRow.id == organization_id).with_for_update()
        )

    async def lock_many(self, organization_ids: Collection[UUID]) -> None:
        # The sort runs below the row locks: they are taken in id order.
        await self._session.execute(
            select(OrganizationRow.id)
            .where(OrganizationRow.id.in_(sorted(organization_ids)))
            .order_by(OrganizationRow.id)
            .with_for_update()
        )


class SqlUserRepository:
    def __init__(self, session: AsyncSession, changed: set[str]) -> None:
        self._session = session
        self._rows = Rows(UserRow, session)
        self._changed = changed

    async def add(self, user: User) -> None:
        await self._rows.add(
            UserRow(
                id=user.id,
                organization_id=user.organization_id,
                email=user.email,
                role=user.role.value,
                password_hash=user.password_hash,
                points=user.points,
                created_at=user.created_at,
                deleted_at=user.deleted_at,
            )
        )

    async def update(self, user: User, *fields: UserField) -> None:
        if not fields:
            return
        self._changed.add(topics.user(user.id))
        values: dict[str, object] = {name: getattr(user, name) for name in fields}
        if "role" in values:
            values["role"] = user.role.value
        await self._session.execute(
            update(UserRow).where(UserRow.id == user.id, UserRow.organization_id == user.organization_id).values(values)
        )

    async def get(self, organization_id: UUID, user_id: UUID, *, for_update: bool = False) -> User | None:
        query = select(UserRow).where(*_active(organization_id), UserRow.id == user_id)
        if for_update:
            # NO KEY UPDATE: the row's key never changes, and the foreign-key checks of new
            # sessions and credits (KEY SHARE) need not wait for this transaction.
            query = query.with_for_update(key_share=True).execution_options(populate_existing=True)
        row = await self._session.scalar(query)
        return user_from_row(row) if row else None

    async def get_by_email(self, organization_id: UUID, email: str) -> User | None:
        row = await self._rows.get_one_or_none(*_active(organization_id), func.lower(UserRow.email) == email.lower())
        return user_from_row(row) if row else None

    async def list(
        self, organization_id: UUID, page: PageRequest, *, role: Role | None, email_query: str | None
    ) -> Page[User]:
        filters = _active(organization_id)
        if role is not None:
            filters.append(UserRow.role == role.value)
        if email_query:
            filters.append(contains(UserRow.email, email_query))
        key = Key((UserRow.created_at,), UserRow.id)  # ix_users_live_page
        # A search counts its matches (the trigram index finds them); otherwise the kept counts answer.
        total = None if email_query else await self._counted(organization_id, role)
        return await self._rows.page(page, user_from_row, *filters, key=key, newest_first=False, total=total)

    async def count_admins(self, organization_id: UUID) -> int:
        return await self._counted(organization_id, Role.ADMIN)

    async def count_active(self, organization_id: UUID) -> int:
        return await self._counted(organization_id, None)

    async def _counted(self, organization_id: UUID, role: Role | None) -> int:
        """Active users (of one role): one row of the counts that triggers on users keep (user_counts)."""
        counted = getattr(UserCountRow, role.value) if role else UserCountRow.admin + UserCountRow.member
        total = await self._session.scalar(select(counted).where(UserCountRow.organization_id == organization_id))
        return int(total or 0)

    async def add_points(self, points: Mapping[UUID, int]) -> None:
        if not points:
            return
        users = cast("Table", UserRow.__table__)  # Core, not ORM-enabled: no session state to synchronise
        # One statement executed per user in id order: two batches crediting the same users lock
        # their rows in one order, so they cannot deadlock (the credits' foreign-key checks take
        # KEY SHARE, which the UPDATE's NO KEY UPDATE does not block). Its text does not depend on
        # the batch, so SQLAlchemy compiles it once: a CASE over the batch's users cost a compile per batch.
        statement = (
            update(users).where(users.c.id == bindparam("user")).values(points=users.c.points + bindparam("added"))
        )
        await self._session.execute(
            statement, [{"user": user_id, "added": points[user_id]} for user_id in sorted(points)]
        )

    async def leaderboard(self, organization_id: UUID, page: PageRequest) -> Page[Standing]:
        # ix_users_leaderboard (partial on active users) serves the filter and the order.
        active = _active(organization_id)
        rows = await self._session.execute(
            select(UserRow.id, UserRow.email, UserRow.points)
            .where(*active)
            .order_by(UserRow.points.desc(), UserRow.id)
            .limit(page.limit)
            .offset(page.offset)
        )
        items = [Standing(user_id=r.id, email=r.email, points=r.points) for r in rows]
        return Page(items, await self._counted(organization_id, None), page.limit, page.offset)


def _active(organization_id: UUID) -> list[ColumnElement[bool]]:
    return [UserRow.organization_id == organization_id, UserRow.deleted_at.is_(None)]
