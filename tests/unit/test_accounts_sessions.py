"""Sessions after login: refresh-token rotation and reuse detection, logout, authentication."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.unit.factories import Account, Tenant, World, add_user, log_in
from vidplat.domain.accounts.auth import Logout, Refresh
from vidplat.domain.accounts.model import Role
from vidplat.domain.accounts.users import DeleteUser, UpdateUser, UpdateUserCommand
from vidplat.domain.errors import InvalidToken, RefreshTokenReused


def refresh(world: World) -> Refresh:
    return Refresh(world.uow, world.issuer(), world.clock)


async def test_refresh_rotates_the_pair_and_spends_the_old_token(world: World, acme: Tenant, member: Account) -> None:
    first, principal = await log_in(world, acme, member)
    world.clock.advance(minutes=1)

    second = await refresh(world)(first.refresh_token)

    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert (await world.authenticate()(second.access_token)).session_id == principal.session_id
    spent = [t for t in world.store.refresh_tokens.values() if t.used_at is not None]
    assert [t.used_at for t in spent] == [world.clock.now()]
    assert len(world.store.sessions) == 1


async def test_reusing_a_spent_refresh_token_revokes_the_whole_session(
    world: World, acme: Tenant, member: Account
) -> None:
    first, principal = await log_in(world, acme, member)
    second = await refresh(world)(first.refresh_token)

    with pytest.raises(RefreshTokenReused):
        await refresh(world)(first.refresh_token)

    assert principal.session_id is not None
    assert world.store.sessions[principal.session_id].revoked_at == world.clock.now()
    with pytest.raises(InvalidToken):
        await refresh(world)(second.refresh_token)
    with pytest.raises(InvalidToken):
        await world.authenticate()(second.access_token)


async def test_reuse_revokes_only_the_session_it_belongs_to(world: World, acme: Tenant, member: Account) -> None:
    stolen, _ = await log_in(world, acme, member)
    other, _ = await log_in(world, acme, member)
    await refresh(world)(stolen.refresh_token)

    with pytest.raises(RefreshTokenReused):
        await refresh(world)(stolen.refresh_token)

    assert (await world.authenticate()(other.access_token)).user_id == member.user.id


async def test_refresh_with_an_unknown_token_is_invalid(world: World) -> None:
    with pytest.raises(InvalidToken):
        await refresh(world)("never-issued")


async def test_refresh_after_logout_fails(world: World, acme: Tenant, member: Account) -> None:
    tokens, principal = await log_in(world, acme, member)

    await Logout(world.uow, world.clock)(principal)

    with pytest.raises(InvalidToken):
        await refresh(world)(tokens.refresh_token)
    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)


async def test_logout_without_a_session_is_invalid(world: World, member: Account) -> None:
    with pytest.raises(InvalidToken):
        await Logout(world.uow, world.clock)(member.principal)


async def test_refresh_for_a_deleted_user_fails(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)

    await DeleteUser(world.uow, world.clock)(acme.admin.principal, member.user.id)

    with pytest.raises(InvalidToken):
        await refresh(world)(tokens.refresh_token)


async def test_refresh_fails_for_a_deleted_user_even_if_the_session_survived(
    world: World, acme: Tenant, member: Account
) -> None:
    tokens, _ = await log_in(world, acme, member)
    world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(InvalidToken):
        await refresh(world)(tokens.refresh_token)


async def test_refresh_fails_once_the_session_expires(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)
    world.clock.advance(world.policy.refresh_ttl)

    with pytest.raises(InvalidToken):
        await refresh(world)(tokens.refresh_token)


async def test_concurrent_refreshes_with_one_token_never_both_succeed(
    world: World, acme: Tenant, member: Account
) -> None:
    tokens, _ = await log_in(world, acme, member)

    results = await asyncio.gather(
        refresh(world)(tokens.refresh_token), refresh(world)(tokens.refresh_token), return_exceptions=True
    )

    assert sum(isinstance(r, RefreshTokenReused) for r in results) == 1


async def test_authenticate_returns_the_principal_of_a_live_session(
    world: World, acme: Tenant, member: Account
) -> None:
    _, principal = await log_in(world, acme, member)

    assert (principal.user_id, principal.organization_id, principal.role) == (
        member.user.id,
        acme.org.id,
        Role.MEMBER,
    )
    assert principal.session_id in world.store.sessions


async def test_authenticate_takes_the_role_from_the_store_so_a_demotion_applies_at_once(
    world: World, acme: Tenant
) -> None:
    boss = add_user(world, acme, role=Role.ADMIN)
    tokens, principal = await log_in(world, acme, acme.admin)
    assert principal.role is Role.ADMIN

    await UpdateUser(world.uow, world.hasher, world.clock)(
        boss.principal, acme.admin.user.id, UpdateUserCommand(role=Role.MEMBER)
    )

    assert (await world.authenticate()(tokens.access_token)).role is Role.MEMBER


async def test_authenticate_rejects_a_revoked_session(world: World, acme: Tenant, member: Account) -> None:
    tokens, principal = await log_in(world, acme, member)
    assert principal.session_id is not None
    world.store.sessions[principal.session_id].revoked_at = world.clock.now()

    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)


async def test_authenticate_rejects_a_deleted_user(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)
    world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)


async def test_authenticate_rejects_an_expired_token(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)
    world.clock.advance(world.policy.access_ttl)

    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token)

    world.clock.advance(-timedelta(seconds=1))
    assert (await world.authenticate()(tokens.access_token)).user_id == member.user.id


async def test_authenticate_rejects_a_token_naming_another_user_than_its_session(
    world: World, acme: Tenant, member: Account
) -> None:
    tokens, _ = await log_in(world, acme, member)
    claims = world.codec.decode_access(tokens.access_token, world.clock.now())
    forged = world.codec.encode_access(replace(claims, user_id=acme.admin.user.id, role=Role.ADMIN))

    with pytest.raises(InvalidToken):
        await world.authenticate()(forged)


async def test_authenticate_rejects_a_tampered_token(world: World, acme: Tenant, member: Account) -> None:
    tokens, _ = await log_in(world, acme, member)

    with pytest.raises(InvalidToken):
        await world.authenticate()(tokens.access_token.replace("member", "admin"))
