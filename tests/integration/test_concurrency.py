"""Races the database must settle: signups, upgrades, the expiry job and the last admin.

Every racer is a wired use case with its own unit of work, and where it matters its own
container (engine, pool, connections), like two API processes or two workers. The outcome
is checked in SQL, not only in what the use cases return.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from httpx import ASGITransport, AsyncClient

from tests.integration.conftest import PASSWORD, Platform, SettableClock
from vidplat.adapters.security.passwords import Argon2Hasher
from vidplat.bootstrap import Container
from vidplat.domain.accounts.model import Principal, Role
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.accounts.users import CreateUserCommand
from vidplat.domain.billing.queries import OrganizationOverview, SubscriptionState
from vidplat.domain.errors import LastAdmin, OrganizationNameTaken, SubscriptionConflict
from vidplat.domain.pagination import PageRequest
from vidplat.entrypoints.http.app import create_app

PAID_DAYS = 15


class RendezvousHasher:
    """Real argon2, then every caller waits for the others: the racers reach the database together.

    Without it the hashing time decides who is first and the race rarely reaches the database.
    """

    def __init__(self, parties: int) -> None:
        self._argon2 = Argon2Hasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
        self._barrier = asyncio.Barrier(parties)

    async def hash(self, password: str) -> str:
        hashed = await self._argon2.hash(password)
        await self._barrier.wait()
        return hashed

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self._argon2.verify(password_hash, password)


def _sign_up(name: str, email: str) -> SignUpCommand:
    return SignUpCommand(name=name, admin_email=email, admin_password=PASSWORD)


async def test_two_racing_signups_with_one_name_create_one_organization(platform: Platform) -> None:
    pairs = 5
    hasher = RendezvousHasher(2 * pairs)
    first, second = await platform.started(hasher=hasher), await platform.started(hasher=hasher)
    results = await asyncio.gather(
        *(first.use_cases.sign_up(_sign_up(f"Racing Co {i}", f"first{i}@example.com")) for i in range(pairs)),
        # The same names in another case: the uniqueness is case-insensitive.
        *(second.use_cases.sign_up(_sign_up(f"RACING CO {i}", f"second{i}@example.com")) for i in range(pairs)),
        return_exceptions=True,
    )
    for i in range(pairs):
        pair = [results[i], results[pairs + i]]
        assert sum(isinstance(r, OrganizationOverview) for r in pair) == 1, pair
        assert sum(isinstance(r, OrganizationNameTaken) for r in pair) == 1, pair
    # The loser left nothing behind: no organization, admin or subscription of its own.
    assert await platform.scalar("SELECT count(*) FROM organizations") == pairs
    assert await platform.scalar("SELECT count(*) FROM users") == pairs
    assert await platform.scalar("SELECT count(*) FROM subscriptions WHERE ended_at IS NULL") == pairs


async def test_two_racing_signup_requests_with_one_name_get_one_201_and_one_409(platform: Platform) -> None:
    # Litestar's AsyncTestClient hands requests one at a time to an app on another thread, so
    # they could never race; httpx's ASGI transport runs them concurrently on this loop. It sends
    # no lifespan events, so the container is started here (that is all the app's lifespan does).
    app = create_app(await platform.started(hasher=RendezvousHasher(2)), run_schedules=False)
    transport = ASGITransport(app=app)  # type: ignore[arg-type]  # Litestar types the ASGI scope more narrowly
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    "/api/v1/organizations",
                    json={"name": name, "admin_email": "admin@example.com", "admin_password": PASSWORD},
                )
                for name in ("Request Race", "request race")
            )
        )
    assert sorted(r.status_code for r in responses) == [201, 409]
    conflict = next(r for r in responses if r.status_code == 409)
    assert conflict.headers["content-type"].startswith("application/problem+json")
    assert conflict.json()["code"] == "organization_name_taken"
    assert await platform.scalar("SELECT count(*) FROM organizations") == 1


async def test_two_racing_signups_whose_names_share_a_slug_both_succeed(platform: Platform) -> None:
    hasher = RendezvousHasher(2)
    first, second = await platform.started(hasher=hasher), await platform.started(hasher=hasher)
    results = await asyncio.gather(
        first.use_cases.sign_up(_sign_up("Slug Race!", "first@example.com")),
        second.use_cases.sign_up(_sign_up("Slug Race?", "second@example.com")),
        return_exceptions=True,
    )
    # Different names: the loser of the slug gets another slug, not a "name taken".
    assert all(isinstance(r, OrganizationOverview) for r in results), results
    [(winner,), (other,)] = await platform.rows("SELECT slug FROM organizations ORDER BY length(slug)")
    assert winner == "slug-race"
    assert other.startswith("slug-race-")


async def test_two_racing_paid_upgrades_leave_exactly_one_current_subscription(platform: Platform) -> None:
    clock = SettableClock.starting_now()
    first, second = await platform.started(clock=clock), await platform.started(clock=clock)
    admins = [await platform.sign_up(first, f"Upgraders {i}") for i in range(5)]
    start = clock.now()
    results = await asyncio.gather(
        *(racer.use_cases.subscribe(admin, "PAID") for admin in admins for racer in (first, second)),
        return_exceptions=True,
    )
    for admin, outcome in zip(admins, [results[i : i + 2] for i in range(0, len(results), 2)], strict=True):
        # Both may go through one after the other (the second renews), or one may fail cleanly.
        assert all(isinstance(r, SubscriptionState | SubscriptionConflict) for r in outcome), outcome
        paid = sum(isinstance(r, SubscriptionState) for r in outcome)
        assert paid >= 1
        org = admin.organization_id
        current = await platform.rows(
            "SELECT plan_code, started_at, ends_at FROM subscriptions"
            " WHERE organization_id = :org AND ended_at IS NULL",
            org=org,
        )
        assert current == [("PAID", start, start + timedelta(days=PAID_DAYS * paid))]
        history = await first.use_cases.subscription_history(admin, PageRequest())
        assert history.total == 1 + paid  # the signup's TRIAL, then one row per purchase
        assert sorted(s.subscription.plan.code.value for s in history.items) == ["PAID"] * paid + ["TRIAL"]
        assert [s.active for s in history.items].count(True) == 1
        assert all(s.subscription.ended_at == start for s in history.items if not s.active)


async def test_the_expiry_job_run_twice_at_once_ends_each_lapsed_subscription_once(platform: Platform) -> None:
    orgs = 20
    clock = SettableClock.starting_now()
    setup = await platform.started(clock=clock)
    admins = [await platform.sign_up(setup, f"Lapsing {i}") for i in range(orgs)]
    for admin in admins:
        await setup.use_cases.subscribe(admin, "PAID")
    paid_until = clock.now() + timedelta(days=PAID_DAYS)
    later = SettableClock(paid_until + timedelta(days=1))
    workers = [await platform.started(clock=later), await platform.started(clock=later)]

    counts = await asyncio.gather(*(worker.use_cases.expire_subscriptions() for worker in workers))

    assert sum(counts) == orgs, counts
    assert await platform.rows(
        "SELECT plan_code, ended_at, count(*) FROM subscriptions WHERE plan_code = 'PAID' GROUP BY 1, 2"
    ) == [("PAID", paid_until, orgs)]
    assert await platform.rows(
        "SELECT plan_code, started_at, ends_at, count(*) FROM subscriptions WHERE ended_at IS NULL GROUP BY 1, 2, 3"
    ) == [("TRIAL", paid_until, None, orgs)]
    per_org = await platform.rows(
        "SELECT count(*) FILTER (WHERE ended_at IS NULL), count(*) FROM subscriptions GROUP BY organization_id"
    )
    assert per_org == [(1, 3)] * orgs  # signup TRIAL, PAID, the TRIAL it fell back to
    assert await asyncio.gather(*(worker.use_cases.expire_subscriptions() for worker in workers)) == [0, 0]


async def _second_admin(platform: Platform, container: Container, admin: Principal, email: str) -> Principal:
    await container.use_cases.create_user(admin, CreateUserCommand(email=email, password=PASSWORD, role=Role.ADMIN))
    org = await container.use_cases.get_organization(admin)
    return await platform.log_in(container, org.organization.slug, email)


async def test_two_admins_deleting_each_other_at_once_leave_one_admin(platform: Platform) -> None:
    first, second = await platform.started(), await platform.started()
    pairs: list[tuple[Principal, Principal]] = []
    for i in range(5):
        alice = await platform.sign_up(first, f"Two Admins {i}", "alice@example.com")
        pairs.append((alice, await _second_admin(platform, first, alice, "bob@example.com")))

    results = await asyncio.gather(
        *(
            call
            for alice, bob in pairs
            for call in (
                first.use_cases.delete_user(alice, bob.user_id),
                second.use_cases.delete_user(bob, alice.user_id),
            )
        ),
        return_exceptions=True,
    )

    for (alice, _), outcome in zip(pairs, [results[i : i + 2] for i in range(0, len(results), 2)], strict=True):
        # The organization lock serialises them: one deletion goes through, the other is refused.
        assert sum(r is None for r in outcome) == 1, outcome
        assert sum(isinstance(r, LastAdmin) for r in outcome) == 1, outcome
        admins_left = await platform.scalar(
            "SELECT count(*) FROM users WHERE organization_id = :org AND role = 'admin' AND deleted_at IS NULL",
            org=alice.organization_id,
        )
        assert admins_left == 1
