"""The users list's total, the quota's users and the last-admin count come from counts that triggers
keep: every way a user changes moves them."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete, func, select, update

from tests.integration.sql_fixtures import NOW, Database, make_org, make_user
from vidplat.adapters.sql.rows import UserRow
from vidplat.domain.accounts.model import Organization, Role
from vidplat.domain.pagination import PageRequest


async def assert_counts_match_the_rows(db: Database, *orgs: Organization) -> None:
    """The kept counts equal a count(*) of the active rows, for every way they are read."""
    for org in orgs:
        async with db.engine.connect() as connection:
            counted = {
                role: int(
                    await connection.scalar(
                        select(func.count())
                        .select_from(UserRow)
                        .where(
                            UserRow.organization_id == org.id, UserRow.deleted_at.is_(None), UserRow.role == role.value
                        )
                    )
                    or 0
                )
                for role in Role
            }
        async with db.uow(read_only=True) as uow:
            assert await uow.users.count_admins(org.id) == counted[Role.ADMIN], org.name
            assert await uow.users.count_active(org.id) == sum(counted.values()), org.name
            for role in (*Role, None):
                page = await uow.users.list(org.id, PageRequest(limit=1), role=role, email_query=None)
                assert page.total == (counted[role] if role else sum(counted.values())), (org.name, role)


async def test_counts_follow_creation_role_changes_soft_deletes_and_deletes(db: Database) -> None:
    org, other = make_org(), make_org()
    admin, members = make_user(org, role=Role.ADMIN), [make_user(org) for _ in range(3)]
    gone = make_user(org, deleted_at=NOW)
    await db.seed(org, other, admin, *members, gone, make_user(other, role=Role.ADMIN))
    await assert_counts_match_the_rows(db, org, other)
    async with db.uow(read_only=True) as uow:
        assert await uow.users.count_active(org.id) == 4

    changes = [
        update(UserRow).where(UserRow.id == members[0].id).values(role="admin"),  # promoted
        update(UserRow).where(UserRow.id == members[1].id).values(deleted_at=NOW),  # soft-deleted
        update(UserRow).where(UserRow.id == members[2].id).values(points=10),  # counts unchanged
        update(UserRow).where(UserRow.id == gone.id).values(deleted_at=None, role="admin"),  # back, as admin
        delete(UserRow).where(UserRow.id == members[2].id),
        # One statement over users of several organizations, as a bulk write does.
        update(UserRow).where(UserRow.organization_id.in_([org.id, other.id])).values(role="member"),
        update(UserRow).where(UserRow.organization_id.in_([org.id, other.id])).values(deleted_at=NOW),
    ]
    for change in changes:
        async with db.engine.begin() as connection:
            await connection.execute(change)
        await assert_counts_match_the_rows(db, org, other)


async def test_concurrent_user_creations_in_one_organization_are_all_counted(db: Database) -> None:
    org = make_org()
    await db.seed(org)

    async def create(n: int) -> None:
        async with db.uow() as uow:
            await uow.users.add(make_user(org, f"user{n}@example.com"))
            await uow.commit()

    await asyncio.gather(*(create(n) for n in range(8)))
    await assert_counts_match_the_rows(db, org)
    async with db.uow(read_only=True) as uow:
        assert await uow.users.count_active(org.id) == 8


async def test_a_rolled_back_user_creation_is_not_counted(db: Database) -> None:
    org = make_org()
    await db.seed(org, make_user(org, role=Role.ADMIN))
    async with db.uow() as uow:
        await uow.users.add(make_user(org))  # no commit
    await assert_counts_match_the_rows(db, org)
    async with db.uow(read_only=True) as uow:
        assert await uow.users.count_active(org.id) == 1


async def test_a_search_still_counts_its_matches(db: Database) -> None:
    org = make_org()
    await db.seed(org, *(make_user(org, f"{name}@example.com") for name in ("cat1", "cat2", "dog")))
    async with db.uow(read_only=True) as uow:
        page = await uow.users.list(org.id, PageRequest(limit=1), role=None, email_query="CAT")
    assert (page.total, len(page.items)) == (2, 1)
