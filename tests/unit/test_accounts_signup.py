"""SignUp: an organization, its first admin and a TRIAL subscription, all or nothing."""

from __future__ import annotations

import asyncio

import pytest

from tests.unit.factories import PASSWORD, World
from vidplat.domain.accounts.model import Role, org_name_key
from vidplat.domain.accounts.signup import SignUp, SignUpCommand
from vidplat.domain.billing.model import PlanCode
from vidplat.domain.errors import InvalidInput, OrganizationNameTaken, TooManyAttempts


def signup(world: World) -> SignUp:
    return world.sign_up()


def command(
    name: str = "Acme Corp", email: str = "Boss@Acme.test", password: str = PASSWORD, *, address: str | None = None
) -> SignUpCommand:
    return SignUpCommand(name=name, admin_email=email, admin_password=password, client_address=address)


async def test_signup_creates_org_admin_and_trial_in_one_commit(world: World) -> None:
    made = await signup(world)(command())

    org = world.store.organizations[made.organization.id]
    assert (org.name, org.slug, org.created_at) == ("Acme Corp", "acme-corp", world.clock.now())
    [admin] = world.store.users.values()
    assert (admin.organization_id, admin.email, admin.role) == (org.id, "boss@acme.test", Role.ADMIN)
    assert admin.password_hash == world.hasher.PREFIX + PASSWORD
    [trial] = world.store.subscriptions.values()
    assert (trial.organization_id, trial.plan.code, trial.ends_at, trial.ended_at) == (
        org.id,
        PlanCode.TRIAL,
        None,
        None,
    )
    assert world.store.commits == 1
    assert made.subscription is not None
    assert made.subscription.active
    assert made.subscription.subscription.id == trial.id


async def test_signup_rejects_a_name_taken_in_any_case(world: World) -> None:
    await signup(world)(command(name="Acme Corp"))

    with pytest.raises(OrganizationNameTaken):
        await signup(world)(command(name="  aCME   corp ", email="other@acme.test"))

    assert len(world.store.organizations) == 1
    assert len(world.store.users) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Straße", "STRASSE"),
        ("\u01c4ungla", "\u01c5ungla"),  # DŽ and its title case Dž
        ("\u01c4ungla", "\u01c6ungla"),  # and its lower case dž
        ("\uff21\uff43\uff4d\uff45", "acme"),  # full-width
        ("ﬁne Films", "FINE films"),  # the fi ligature
    ],
)
async def test_signup_rejects_a_name_that_folds_to_a_taken_one(world: World, first: str, second: str) -> None:
    await signup(world)(command(name=first))

    with pytest.raises(OrganizationNameTaken):
        await signup(world)(command(name=second, email="other@acme.test"))


async def test_the_name_keeps_its_spelling_and_only_its_key_is_folded(world: World) -> None:
    made = await signup(world)(command(name="  Straße   Films "))

    assert made.organization.name == "Straße Films"
    assert org_name_key(made.organization.name) == "strasse films"


async def test_signup_gives_a_colliding_slug_a_unique_suffix(world: World) -> None:
    first = await signup(world)(command(name="Acme!"))
    second = await signup(world)(command(name="ACME?"))

    assert first.organization.slug == "acme"
    assert second.organization.slug.startswith("acme-")
    assert second.organization.slug != first.organization.slug
    assert {o.slug for o in world.store.organizations.values()} == {"acme", second.organization.slug}


async def test_signup_slug_is_lowercase_ascii_with_hyphens(world: World) -> None:
    made = await signup(world)(command(name="Café  Ñandú & Co."))

    assert made.organization.slug == "cafe-nandu-co"


@pytest.mark.parametrize(
    ("cmd", "field"),
    [
        (command(name="   "), "name"),
        (command(name="x" * 101), "name"),
        (command(email="not-an-email"), "admin_email"),
        (command(email="a@b"), "admin_email"),
        (command(password="short"), "admin_password"),
        (command(password="x" * 129), "admin_password"),
    ],
)
async def test_signup_rejects_invalid_input_naming_the_field(world: World, cmd: SignUpCommand, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await signup(world)(cmd)

    assert [e.field for e in caught.value.errors] == [field]
    assert world.store.commits == 0
    assert not world.store.organizations
    assert not world.store.users
    assert not world.store.subscriptions


async def test_signup_writes_nothing_when_the_commit_fails(world: World) -> None:
    world.store.fail_next_commit(RuntimeError("database went away"))

    with pytest.raises(RuntimeError):
        await signup(world)(command())

    assert not world.store.organizations
    assert not world.store.users
    assert not world.store.subscriptions
    assert world.store.units[-1].rolled_back


async def test_concurrent_signups_with_one_name_create_one_organization(world: World) -> None:
    results = await asyncio.gather(
        signup(world)(command(email="a@acme.test")),
        signup(world)(command(email="b@acme.test")),
        return_exceptions=True,
    )

    assert sum(isinstance(r, OrganizationNameTaken) for r in results) == 1
    assert len(world.store.organizations) == 1
    assert len(world.store.users) == 1
    assert len(world.store.subscriptions) == 1


async def test_racing_signups_whose_names_share_a_slug_both_succeed_with_distinct_slugs(world: World) -> None:
    first, second = await asyncio.gather(signup(world)(command("Slug Race!")), signup(world)(command("Slug Race?")))

    slugs = {first.organization.slug, second.organization.slug}
    assert len(slugs) == 2
    assert "slug-race" in slugs
    assert len(world.store.organizations) == 2


async def test_racing_signups_with_one_name_give_exactly_one_organization(world: World) -> None:
    results = await asyncio.gather(
        signup(world)(command("Twin Co")), signup(world)(command("twin co")), return_exceptions=True
    )

    assert sorted(type(r).__name__ for r in results) == ["OrganizationNameTaken", "OrganizationOverview"]
    assert len(world.store.organizations) == 1


async def test_signups_from_one_address_are_limited_before_any_password_is_hashed(world: World) -> None:
    quota = world.policy.signup_per_address
    for n in range(quota.limit):
        await signup(world)(command(name=f"Org {n}", email=f"boss{n}@acme.test", address="198.51.100.4"))
    hashed = len(world.hasher.hashed)

    with pytest.raises(TooManyAttempts) as caught:
        await signup(world)(command(address="198.51.100.4"))

    assert caught.value.retry_after_seconds == quota.window_seconds
    assert len(world.hasher.hashed) == hashed
    await signup(world)(command(address="198.51.100.5"))
