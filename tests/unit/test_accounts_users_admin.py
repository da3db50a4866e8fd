"""Admins managing the users of their own organization (and only theirs)."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.factories import PASSWORD, Account, Tenant, World, add_user, log_in
from vidplat.domain.accounts.model import Role
from vidplat.domain.accounts.users import (
    CreateUser,
    CreateUserCommand,
    DeleteUser,
    GetUser,
    ListUsers,
    UpdateUser,
    UpdateUserCommand,
    UserQuery,
)
from vidplat.domain.errors import AdminRequired, EmailTaken, InvalidInput, InvalidToken, LastAdmin, UserNotFound
from vidplat.domain.pagination import PageRequest


def create(world: World) -> CreateUser:
    return CreateUser(world.uow, world.hasher, world.clock)


def update(world: World) -> UpdateUser:
    return UpdateUser(world.uow, world.hasher, world.clock)


def delete(world: World) -> DeleteUser:
    return DeleteUser(world.uow, world.clock)


async def test_admin_creates_a_user_with_a_generated_password_returned_once(world: World, acme: Tenant) -> None:
    created = await create(world)(acme.admin.principal, CreateUserCommand(email="New@Acme.test"))

    assert created.initial_password is not None
    assert len(created.initial_password) >= 16
    stored = world.store.users[created.user.id]
    assert (stored.email, stored.role, stored.organization_id) == ("new@acme.test", Role.MEMBER, acme.org.id)
    assert stored.password_hash == world.hasher.PREFIX + created.initial_password


async def test_admin_creates_a_user_with_a_given_password_that_is_not_returned(world: World, acme: Tenant) -> None:
    cmd = CreateUserCommand(email="boss@acme.test", password=PASSWORD, role=Role.ADMIN)

    created = await create(world)(acme.admin.principal, cmd)

    assert created.initial_password is None
    assert world.store.users[created.user.id].role is Role.ADMIN
    assert world.store.users[created.user.id].password_hash == world.hasher.PREFIX + PASSWORD


async def test_created_user_password_must_be_8_to_128_characters(world: World, acme: Tenant) -> None:
    with pytest.raises(InvalidInput) as caught:
        await create(world)(acme.admin.principal, CreateUserCommand(email="new@acme.test", password="short"))

    assert caught.value.errors[0].field == "password"
    assert len(world.store.users) == 1


async def test_email_taken_is_case_insensitive_within_one_organization(
    world: World, acme: Tenant, globex: Tenant, member: Account
) -> None:
    with pytest.raises(EmailTaken):
        await create(world)(acme.admin.principal, CreateUserCommand(email=member.user.email.upper()))

    other = await create(world)(globex.admin.principal, CreateUserCommand(email=member.user.email))
    assert other.user.organization_id == globex.org.id


async def test_a_deleted_users_email_can_be_used_again(world: World, acme: Tenant, member: Account) -> None:
    await delete(world)(acme.admin.principal, member.user.id)

    again = await create(world)(acme.admin.principal, CreateUserCommand(email=member.user.email))

    assert again.user.id != member.user.id


async def test_concurrent_creates_with_one_email_make_one_user(world: World, acme: Tenant) -> None:
    cmd = CreateUserCommand(email="twin@acme.test")

    results = await asyncio.gather(
        create(world)(acme.admin.principal, cmd), create(world)(acme.admin.principal, cmd), return_exceptions=True
    )

    assert sum(isinstance(r, EmailTaken) for r in results) == 1
    assert [u.email for u in world.store.users.values()].count("twin@acme.test") == 1


async def test_member_cannot_manage_other_users(world: World, acme: Tenant, member: Account) -> None:
    admin_id, me = acme.admin.user.id, member.principal
    attempts = [
        create(world)(me, CreateUserCommand(email="x@acme.test")),
        ListUsers(world.uow)(me, UserQuery(page=PageRequest())),
        GetUser(world.uow)(me, admin_id),
        update(world)(me, admin_id, UpdateUserCommand(role=Role.MEMBER)),
        delete(world)(me, admin_id),
    ]
    for attempt in attempts:
        with pytest.raises(AdminRequired):
            await attempt

    assert world.store.users[admin_id].role is Role.ADMIN
    assert world.store.users[admin_id].deleted_at is None
    assert len(world.store.users) == 2


async def test_member_can_get_themselves(world: World, member: Account) -> None:
    assert (await GetUser(world.uow)(member.principal, member.user.id)).email == member.user.email


async def test_admin_cannot_reach_another_organizations_users(world: World, acme: Tenant, globex: Tenant) -> None:
    outsider = globex.admin.user.id
    attempts = [
        GetUser(world.uow)(acme.admin.principal, outsider),
        update(world)(acme.admin.principal, outsider, UpdateUserCommand(role=Role.MEMBER, password=PASSWORD)),
        delete(world)(acme.admin.principal, outsider),
    ]
    for attempt in attempts:
        with pytest.raises(UserNotFound):
            await attempt

    assert world.store.users[outsider].role is Role.ADMIN
    assert world.store.users[outsider].deleted_at is None


async def test_demoting_the_last_admin_is_refused(world: World, acme: Tenant) -> None:
    with pytest.raises(LastAdmin):
        await update(world)(acme.admin.principal, acme.admin.user.id, UpdateUserCommand(role=Role.MEMBER))

    assert world.store.users[acme.admin.user.id].role is Role.ADMIN


async def test_deleting_the_last_admin_is_refused_even_by_themselves(world: World, acme: Tenant) -> None:
    with pytest.raises(LastAdmin):
        await delete(world)(acme.admin.principal, acme.admin.user.id)

    assert world.store.users[acme.admin.user.id].deleted_at is None


async def test_an_admin_can_be_demoted_or_deleted_while_another_admin_remains(world: World, acme: Tenant) -> None:
    second = add_user(world, acme, role=Role.ADMIN)
    third = add_user(world, acme, role=Role.ADMIN)

    await update(world)(acme.admin.principal, second.user.id, UpdateUserCommand(role=Role.MEMBER))
    await delete(world)(acme.admin.principal, acme.admin.user.id)

    assert world.store.users[second.user.id].role is Role.MEMBER
    assert world.store.users[acme.admin.user.id].deleted_at == world.clock.now()
    assert acme.org.id in world.store.locked_organizations
    with pytest.raises(LastAdmin):
        await delete(world)(third.principal, third.user.id)


async def test_concurrent_demotions_of_two_admins_keep_one(world: World, acme: Tenant) -> None:
    second = add_user(world, acme, role=Role.ADMIN)
    demote = UpdateUserCommand(role=Role.MEMBER)

    results = await asyncio.gather(
        update(world)(acme.admin.principal, second.user.id, demote),
        update(world)(second.principal, acme.admin.user.id, demote),
        return_exceptions=True,
    )

    assert sum(isinstance(r, LastAdmin) for r in results) == 1
    assert sum(u.role is Role.ADMIN for u in world.store.users.values()) == 1


async def test_admin_password_reset_revokes_all_the_users_sessions(world: World, acme: Tenant, member: Account) -> None:
    first, _ = await log_in(world, acme, member)
    second, _ = await log_in(world, acme, member)

    await update(world)(acme.admin.principal, member.user.id, UpdateUserCommand(password="a brand new secret"))

    assert world.store.users[member.user.id].password_hash == world.hasher.PREFIX + "a brand new secret"
    for tokens in (first, second):
        with pytest.raises(InvalidToken):
            await world.authenticate()(tokens.access_token)


async def test_list_filters_by_role_and_email_substring_with_totals(world: World, acme: Tenant) -> None:
    for n in range(5):
        world.clock.advance(seconds=1)
        add_user(world, acme, email=f"sales{n}@acme.test")
    add_user(world, acme, email="ops@acme.test", role=Role.ADMIN)
    listing = ListUsers(world.uow)

    page = await listing(acme.admin.principal, UserQuery(page=PageRequest(limit=2, offset=2), email="SALES"))
    admins = await listing(acme.admin.principal, UserQuery(page=PageRequest(), role=Role.ADMIN))

    assert (page.total, page.limit, page.offset) == (5, 2, 2)
    assert [u.email for u in page.items] == ["sales2@acme.test", "sales3@acme.test"]
    assert {u.email for u in admins.items} == {"admin@acme.test", "ops@acme.test"}
    assert admins.total == 2


async def test_deleted_users_vanish_from_lists_and_get(world: World, acme: Tenant, member: Account) -> None:
    await delete(world)(acme.admin.principal, member.user.id)

    listed = await ListUsers(world.uow)(acme.admin.principal, UserQuery(page=PageRequest()))

    assert [u.id for u in listed.items] == [acme.admin.user.id]
    assert listed.total == 1
    with pytest.raises(UserNotFound):
        await GetUser(world.uow)(acme.admin.principal, member.user.id)
    assert world.store.users[member.user.id].deleted_at == world.clock.now()


async def test_deleting_a_user_revokes_their_sessions(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)

    await delete(world)(acme.admin.principal, member.user.id)

    assert all(s.revoked_at is not None for s in world.store.sessions.values())
    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)
