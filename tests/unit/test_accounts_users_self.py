"""Self-service: changing one's own password and deactivating one's own account."""

from __future__ import annotations

import pytest

from tests.unit.factories import PASSWORD, Account, Tenant, World, add_user, log_in
from tests.unit.fakes import FakeHasher
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.model import Role
from vidplat.domain.accounts.users import ChangeOwnPassword, ChangePasswordCommand, DeleteUser
from vidplat.domain.errors import InvalidCredentials, InvalidInput, InvalidToken, LastAdmin, WrongPassword

NEW_PASSWORD = "an even better secret"


def change(world: World) -> ChangeOwnPassword:
    return ChangeOwnPassword(world.uow, world.hasher, world.clock)


class WatchingHasher(FakeHasher):
    """Records, for each hash and verify, whether a unit of work was open meanwhile."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.inside: list[bool] = []

    async def hash(self, password: str) -> str:
        self.inside.append(self.world.store.any_unit_open)
        return await super().hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        self.inside.append(self.world.store.any_unit_open)
        return await super().verify(password_hash, password)


async def test_changing_password_runs_argon2_outside_any_unit_of_work(world: World, member: Account) -> None:
    hasher = WatchingHasher(world)

    await ChangeOwnPassword(world.uow, hasher, world.clock)(
        member.principal, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD)
    )

    assert hasher.inside == [False, False]  # the new hash, then the current password's check
    assert world.store.users[member.user.id].password_hash == hasher.PREFIX + NEW_PASSWORD


async def test_changing_password_with_a_wrong_current_one_is_refused(
    world: World, acme: Tenant, member: Account
) -> None:
    tokens, principal = await log_in(world, acme, member)

    with pytest.raises(WrongPassword):
        await change(world)(principal, ChangePasswordCommand(current_password="not it", new_password=NEW_PASSWORD))

    assert world.store.users[member.user.id].password_hash == world.hasher.PREFIX + PASSWORD
    assert (await world.authenticate()(tokens.access_token)).user_id == member.user.id


async def test_new_password_must_be_valid(world: World, member: Account) -> None:
    with pytest.raises(InvalidInput) as caught:
        await change(world)(member.principal, ChangePasswordCommand(current_password=PASSWORD, new_password="short"))

    assert caught.value.errors[0].field == "new_password"


async def test_changing_password_revokes_other_sessions_but_keeps_the_current_one(
    world: World, acme: Tenant, member: Account
) -> None:
    current, principal = await log_in(world, acme, member)
    other, _ = await log_in(world, acme, member)

    await change(world)(principal, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD))

    assert (await world.authenticate()(current.access_token)).session_id == principal.session_id
    with pytest.raises(InvalidToken):
        await world.authenticate()(other.access_token)
    login = world.login()
    with pytest.raises(InvalidCredentials):
        await login(LoginCommand(organization="acme", email=member.user.email, password=PASSWORD))
    await login(LoginCommand(organization="acme", email=member.user.email, password=NEW_PASSWORD))


async def test_password_change_leaves_other_users_sessions_alone(world: World, acme: Tenant, member: Account) -> None:
    admin_tokens, _ = await log_in(world, acme, acme.admin)
    _, principal = await log_in(world, acme, member)

    await change(world)(principal, ChangePasswordCommand(current_password=PASSWORD, new_password=NEW_PASSWORD))

    assert (await world.authenticate()(admin_tokens.access_token)).user_id == acme.admin.user.id


async def test_member_can_delete_their_own_account(world: World, acme: Tenant, member: Account) -> None:
    tokens, principal = await log_in(world, acme, member)

    await DeleteUser(world.uow, world.clock)(principal, member.user.id)

    assert world.store.users[member.user.id].deleted_at == world.clock.now()
    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)
    with pytest.raises(InvalidCredentials):
        await world.login()(LoginCommand(organization="acme", email=member.user.email, password=PASSWORD))


async def test_only_admin_cannot_delete_their_own_account(world: World, acme: Tenant, member: Account) -> None:
    with pytest.raises(LastAdmin):
        await DeleteUser(world.uow, world.clock)(acme.admin.principal, acme.admin.user.id)

    assert world.store.users[acme.admin.user.id].deleted_at is None


async def test_admin_can_delete_their_own_account_when_another_admin_remains(world: World, acme: Tenant) -> None:
    add_user(world, acme, role=Role.ADMIN)

    await DeleteUser(world.uow, world.clock)(acme.admin.principal, acme.admin.user.id)

    assert world.store.users[acme.admin.user.id].deleted_at is not None
