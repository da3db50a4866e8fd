"""Login: one answer for every wrong guess, throttling, and a session per success."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.factories import PASSWORD, Account, Tenant, World
from tests.unit.fakes import FakeHasher
from vidplat.domain.accounts.auth import Login, LoginCommand
from vidplat.domain.accounts.policy import Quota, address_key
from vidplat.domain.accounts.secrets import hash_token
from vidplat.domain.errors import InvalidCredentials, TooManyAttempts


def creds(org: str, email: str, password: str = PASSWORD, *, address: str | None = None) -> LoginCommand:
    return LoginCommand(organization=org, email=email, password=password, client_address=address)


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


async def test_login_accepts_the_email_in_any_unicode_equivalent_spelling(
    world: World, acme: Tenant, member: Account
) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in member.user.email.upper())

    await world.login()(creds("acme", f" {fullwidth}\t"))

    assert len(world.store.sessions) == 1


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


def failures(world: World) -> Quota:
    return world.policy.login_failures


async def fail(login: Login, cmd: LoginCommand, times: int) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await login(cmd)


async def test_repeated_failures_block_even_the_right_password_until_the_window_passes(
    world: World, acme: Tenant, member: Account
) -> None:
    login = world.login()
    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit)

    with pytest.raises(TooManyAttempts) as caught:
        await login(creds("acme", member.user.email))
    assert 0 < caught.value.retry_after_seconds <= failures(world).window_seconds
    assert not world.store.sessions

    world.clock.advance(seconds=failures(world).window_seconds)
    await login(creds("acme", member.user.email))
    assert len(world.store.sessions) == 1


async def test_attempts_while_locked_out_do_not_extend_the_lock_out(
    world: World, acme: Tenant, member: Account
) -> None:
    login = world.login()
    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit)
    for _ in range(50):
        world.clock.advance(seconds=failures(world).window_seconds / 100)
        with pytest.raises(TooManyAttempts):
            await login(creds("acme", member.user.email, "wrong password"))

    world.clock.advance(seconds=failures(world).window_seconds / 2)
    await login(creds("acme", member.user.email))


async def test_a_throttled_attempt_verifies_no_password(world: World, acme: Tenant, member: Account) -> None:
    login = world.login()
    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit)
    verified = len(world.hasher.verified)

    with pytest.raises(TooManyAttempts):
        await login(creds("acme", member.user.email))

    assert len(world.hasher.verified) == verified


async def test_forty_concurrent_wrong_passwords_are_only_evaluated_up_to_the_limit(
    world: World, acme: Tenant, member: Account
) -> None:
    login = world.login()

    outcomes = await asyncio.gather(
        *(login(creds("acme", member.user.email, "wrong password")) for _ in range(40)), return_exceptions=True
    )

    kinds = [type(outcome) for outcome in outcomes]
    assert kinds.count(InvalidCredentials) == failures(world).limit
    assert kinds.count(TooManyAttempts) == 40 - failures(world).limit
    assert len(world.hasher.verified) == failures(world).limit


@pytest.mark.parametrize(
    "spelling", ["{email}", "{upper}", "  {email}\t", "{fullwidth}", "{upper_fullwidth}"], ids=repr
)
async def test_the_account_is_counted_however_the_email_is_spelled(
    world: World, acme: Tenant, member: Account, spelling: str
) -> None:
    email = member.user.email
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" and c != "@" else c for c in email)
    respelled = spelling.format(
        email=email, upper=email.upper(), fullwidth=fullwidth, upper_fullwidth=fullwidth.upper()
    )
    login = world.login()
    await fail(login, creds("acme", respelled, "wrong password"), failures(world).limit)

    with pytest.raises(TooManyAttempts):
        await login(creds("acme", email))


async def test_the_account_is_counted_once_through_the_slug_and_the_organization_id(
    world: World, acme: Tenant, member: Account
) -> None:
    login = world.login()
    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit)

    with pytest.raises(TooManyAttempts):
        await login(creds(str(acme.org.id), member.user.email))


async def test_throttling_cannot_be_dodged_by_respelling_the_organization_id(
    world: World, acme: Tenant, member: Account
) -> None:
    # uuid.UUID() accepts braces, a urn: prefix and hyphens anywhere: all one organization.
    raw = acme.org.id.hex
    spellings = [str(acme.org.id), raw, f"{{{raw}}}", f"urn:uuid:{raw}", f"{raw[:3]}-{raw[3:]}", raw.upper()]
    login = world.login()
    for n in range(failures(world).limit):
        with pytest.raises(InvalidCredentials):
            await login(creds(spellings[n % len(spellings)], member.user.email, "wrong password"))

    with pytest.raises(TooManyAttempts):
        await login(creds(spellings[-1], member.user.email))


@pytest.mark.parametrize("org", ["no-such-org", "0190f0f0-0000-7000-8000-000000000000", "acme"])
async def test_unknown_accounts_are_throttled_exactly_like_known_ones(world: World, acme: Tenant, org: str) -> None:
    login = world.login()
    await fail(login, creds(org, "ghost@acme.test", "guess"), failures(world).limit)

    with pytest.raises(TooManyAttempts) as caught:
        await login(creds(org, " GHOST@acme.test", "guess"))
    assert caught.value.retry_after_seconds == failures(world).window_seconds


async def test_a_successful_login_resets_the_failure_count(world: World, acme: Tenant, member: Account) -> None:
    login = world.login()
    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit - 1)

    await login(creds("acme", member.user.email))

    await fail(login, creds("acme", member.user.email, "wrong password"), failures(world).limit - 1)
    await login(creds("acme", member.user.email))
    assert len(world.store.sessions) == 2


async def test_logins_from_one_address_are_limited_whatever_the_account(
    world: World, acme: Tenant, member: Account
) -> None:
    per_address = world.policy.login_per_address
    login = world.login()
    for n in range(per_address.limit):
        with pytest.raises(InvalidCredentials):
            await login(creds("acme", f"guess{n}@acme.test", "guess", address="203.0.113.7"))

    with pytest.raises(TooManyAttempts) as caught:
        await login(creds("acme", member.user.email, address="203.0.113.7"))
    assert caught.value.retry_after_seconds == per_address.window_seconds
    await login(creds("acme", member.user.email, address="203.0.113.8"))


async def test_an_ipv6_client_is_counted_by_its_slash_64() -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:203.0.113.7") == "203.0.113.7"


class GatedHasher(FakeHasher):
    """Verification waits for `release`; `entered` is set once it has started."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def verify(self, password_hash: str, password: str) -> bool:
        self.entered.set()
        await self.release.wait()
        return await super().verify(password_hash, password)


@pytest.mark.parametrize("change", ["password changed", "user deleted"])
async def test_a_change_committed_while_the_password_is_verified_fails_the_login(
    world: World, acme: Tenant, member: Account, change: str
) -> None:
    world.hasher = hasher = GatedHasher()
    pending = asyncio.create_task(world.login()(creds("acme", member.user.email)))
    await hasher.entered.wait()

    user = world.store.users[member.user.id]
    if change == "password changed":
        user.password_hash = FakeHasher.PREFIX + "a brand new password"
    else:
        user.deleted_at = world.clock.now()
    hasher.release.set()

    with pytest.raises(InvalidCredentials):
        await pending
    assert not world.store.sessions
