"""No user change is written back over a concurrent one (PostgreSQL, two connections, a barrier).

Each test stops one use case inside its slow step (argon2 verify) or just before it writes,
lets an admin's change commit in that gap, then lets the first go on; see races.py.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from tests.integration.races import Gap, GapHasher, run_in_gap, stopping_before_write
from tests.integration.sql_fixtures import NOW, Database, make_org, make_session, make_user
from tests.unit.fakes import FakeClock
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.accounts.users import (
    ChangeOwnPassword,
    ChangePasswordCommand,
    DeleteUser,
    UpdateUser,
    UpdateUserCommand,
)
from vidplat.domain.errors import LastAdmin, UserNotFound, WrongPassword

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "another long passphrase"


async def _users(db: Database, hasher: GapHasher, *roles: Role) -> list[Principal]:
    """Users of one organization with PASSWORD and a live session each, as the API would see them."""
    org = make_org()
    password_hash = await hasher.hash(PASSWORD)
    users = [make_user(org, role=role) for role in roles]
    sessions = [make_session(user) for user in users]
    for user in users:
        user.password_hash = password_hash
    await db.seed(org, *users, *sessions)
    return [
        Principal(user_id=u.id, organization_id=org.id, role=u.role, session_id=s.id)
        for u, s in zip(users, sessions, strict=True)
    ]


async def _row(db: Database, user: Principal) -> tuple[str, bool, str]:
    async with db.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT role, deleted_at IS NOT NULL, password_hash FROM users WHERE id = :id"), {"id": user.user_id}
        )
        role, deleted, password_hash = result.one()
    return role, deleted, password_hash


def _change_password(db: Database, hasher: GapHasher, user: Principal) -> asyncio.Task[None]:
    change = ChangeOwnPassword(db.uow, hasher, FakeClock(NOW))
    cmd = ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    return asyncio.create_task(change(user, cmd))


async def test_a_user_deleted_while_changing_their_password_stays_deleted(db: Database) -> None:
    hasher = GapHasher(Gap())
    admin, member = await _users(db, hasher, Role.ADMIN, Role.MEMBER)
    before = await _row(db, member)

    change = _change_password(db, hasher, member)
    await run_in_gap(db, hasher.gap, change, DeleteUser(db.uow, FakeClock(NOW))(admin, member.user_id))

    with pytest.raises(UserNotFound):
        await change
    assert await _row(db, member) == ("member", True, before[2])


async def test_a_user_demoted_while_changing_their_password_stays_demoted(db: Database) -> None:
    hasher = GapHasher(Gap())
    admin, other_admin = await _users(db, hasher, Role.ADMIN, Role.ADMIN)
    demote = UpdateUser(db.uow, hasher, FakeClock(NOW))(admin, other_admin.user_id, UpdateUserCommand(role=Role.MEMBER))

    change = _change_password(db, hasher, other_admin)
    await run_in_gap(db, hasher.gap, change, demote)

    await change
    role, deleted, password_hash = await _row(db, other_admin)
    assert (role, deleted) == ("member", False)
    assert await hasher.verify(password_hash, NEW_PASSWORD)


async def test_a_password_changed_meanwhile_refuses_the_change_checked_against_the_old_one(db: Database) -> None:
    hasher = GapHasher(Gap())
    admin, member = await _users(db, hasher, Role.ADMIN, Role.MEMBER)
    reset = UpdateUser(db.uow, hasher, FakeClock(NOW))(
        admin, member.user_id, UpdateUserCommand(password="reset by admin")
    )

    change = _change_password(db, hasher, member)
    await run_in_gap(db, hasher.gap, change, reset)

    with pytest.raises(WrongPassword):
        await change
    assert await hasher.verify((await _row(db, member))[2], "reset by admin")


async def test_an_admin_reset_while_the_user_deletes_themselves_does_not_bring_them_back(db: Database) -> None:
    gap = Gap()
    hasher = GapHasher(Gap(armed=False))
    admin, member = await _users(db, hasher, Role.ADMIN, Role.MEMBER)
    reset = UpdateUser(stopping_before_write(db, gap), hasher, FakeClock(NOW))
    resetting = asyncio.create_task(reset(admin, member.user_id, UpdateUserCommand(password="reset by admin")))

    # The reset holds the row from its read to its write: the deletion waits, then finds it reset.
    await run_in_gap(db, gap, resetting, DeleteUser(db.uow, FakeClock(NOW))(member, member.user_id))

    await resetting
    role, deleted, password_hash = await _row(db, member)
    assert (role, deleted) == ("member", True)
    assert await hasher.verify(password_hash, "reset by admin")


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(db: Database) -> None:
    gap = Gap()
    hasher = GapHasher(Gap(armed=False))
    alice, bob = await _users(db, hasher, Role.ADMIN, Role.ADMIN)
    demote = UpdateUserCommand(role=Role.MEMBER)
    first = asyncio.create_task(
        UpdateUser(stopping_before_write(db, gap), hasher, FakeClock(NOW))(alice, bob.user_id, demote)
    )

    with pytest.raises(LastAdmin):
        await run_in_gap(db, gap, first, UpdateUser(db.uow, hasher, FakeClock(NOW))(bob, alice.user_id, demote))

    await first
    assert [(await _row(db, user))[0] for user in (alice, bob)] == ["admin", "member"]
