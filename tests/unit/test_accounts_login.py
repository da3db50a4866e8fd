"""Login: one answer for every wrong guess, throttling, and a session per success."""

from __future__ import annotations

import pytest

from tests.unit.factories import PASSWORD, Account, Tenant, World
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.secrets import hash_token
from vidplat.domain.errors import InvalidCredentials, TooManyAttempts


def creds(org: str, email: str, password: str = PASSWORD) -> LoginCommand:
    return LoginCommand(organization=org, email=email, password=password)


async def test_valid_login_returns_tokens_and_opens_a_session(world: World, acme: Tenant, member: Account) -> None:
    tokens = await world.login()(creds("acme", member.user.email))

    [session] = world.store.sessions.values()
    assert (session.user_id, session.organization_id) == (member.user.id, acme.org.id)
    assert session.expires_at == world.clock.now() + world.policy.refresh_ttl
    [refresh] = world.store.refresh_tokens.values()
    assert (refresh.session_id, refresh.token_hash) == (session.id, hash_token(tokens.refresh_token))
    assert tokens.expires_in == int(world.policy.access_ttl.total_seconds())
    assert tokens.token_type == "bearer"
    claims = world.codec.decode_access(tokens.access_token, world.clock.now())
    assert (claims.user_id, claims.session_id, claims.role) == (member.user.id, session.id, member.user.role)


async def test_login_accepts_the_organization_id_or_slug_and_any_email_case(
    world: World, acme: Tenant, member: Account
) -> None:
    await world.login()(creds(str(acme.org.id), member.user.email))
    await world.login()(creds(" ACME ", member.user.email.upper()))

    assert len(world.store.sessions) == 2


@pytest.mark.parametrize("case", ["unknown org", "unknown email", "wrong password", "deleted user", "bad email"])
async def test_every_wrong_guess_gets_the_same_invalid_credentials(
    world: World, acme: Tenant, member: Account, case: str
) -> None:
    cmd = {
        "unknown org": creds("nope", member.user.email),
        "unknown email": creds("acme", "ghost@acme.test"),
        "wrong password": creds("acme", member.user.email, "not the password"),
        "deleted user": creds("acme", member.user.email),
        "bad email": creds("acme", "not an email"),
    }[case]
    if case == "deleted user":
        world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(InvalidCredentials) as caught:
        await world.login()(cmd)

    assert caught.type is InvalidCredentials
    assert not world.store.sessions


async def test_login_for_an_unknown_user_still_verifies_a_decoy_hash(world: World, acme: Tenant) -> None:
    with pytest.raises(InvalidCredentials):
        await world.login()(creds("acme", "ghost@acme.test", "guess-one"))

    [(decoy, password)] = world.hasher.verified
    assert password == "guess-one"
    assert decoy.startswith(world.hasher.PREFIX)
    assert decoy not in {u.password_hash for u in world.store.users.values()}


async def test_login_for_an_unknown_organization_still_verifies_a_hash(world: World, acme: Tenant) -> None:
    with pytest.raises(InvalidCredentials):
        await world.login()(creds("no-such-org", "admin@acme.test", "guess-two"))

    assert [p for _, p in world.hasher.verified] == ["guess-two"]


async def test_repeated_failures_block_even_the_right_password_until_the_window_passes(
    world: World, acme: Tenant, member: Account
) -> None:
    login = world.login()
    for _ in range(world.limiter.limit):
        with pytest.raises(InvalidCredentials):
            await login(creds("acme", member.user.email, "wrong password"))

    with pytest.raises(TooManyAttempts) as caught:
        await login(creds("acme", member.user.email))
    assert 0 < caught.value.retry_after_seconds <= world.limiter.window.total_seconds()
    assert not world.store.sessions

    world.clock.advance(world.limiter.window)
    await login(creds("acme", member.user.email))
    assert len(world.store.sessions) == 1


async def test_throttling_counts_the_email_in_any_case(world: World, acme: Tenant, member: Account) -> None:
    login = world.login()
    for n in range(world.limiter.limit):
        email = member.user.email.upper() if n % 2 else member.user.email
        with pytest.raises(InvalidCredentials):
            await login(creds("acme", email, "wrong password"))

    with pytest.raises(TooManyAttempts):
        await login(creds("ACME", member.user.email))


async def test_throttling_cannot_be_dodged_by_respelling_the_organization_id(
    world: World, acme: Tenant, member: Account
) -> None:
    # uuid.UUID() accepts braces, a urn: prefix and hyphens anywhere: all one organization.
    raw = acme.org.id.hex
    spellings = [str(acme.org.id), raw, f"{{{raw}}}", f"urn:uuid:{raw}", f"{raw[:3]}-{raw[3:]}", raw.upper()]
    login = world.login()
    for spelling in spellings[: world.limiter.limit]:
        with pytest.raises(InvalidCredentials):
            await login(creds(spelling, member.user.email, "wrong password"))

    with pytest.raises(TooManyAttempts):
        await login(creds(spellings[-1], member.user.email))


async def test_a_successful_login_resets_the_failure_count(world: World, acme: Tenant, member: Account) -> None:
    login = world.login()
    for _ in range(world.limiter.limit - 1):
        with pytest.raises(InvalidCredentials):
            await login(creds("acme", member.user.email, "wrong password"))

    await login(creds("acme", member.user.email))

    for _ in range(world.limiter.limit - 1):
        with pytest.raises(InvalidCredentials):
            await login(creds("acme", member.user.email, "wrong password"))
    await login(creds("acme", member.user.email))
    assert len(world.store.sessions) == 2
