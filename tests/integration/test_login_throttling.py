"""Login throttling that holds when the attempts overlap: Redis counts before argon2 runs."""

from __future__ import annotations

import asyncio
from collections import Counter

from httpx import ASGITransport, AsyncClient

from tests.integration.conftest import PASSWORD, Platform
from vidplat.bootstrap import Container
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.entrypoints.http.app import create_app

ATTEMPTS = 40
LIMIT = 10


async def test_forty_parallel_wrong_passwords_for_one_account_get_ten_401s_and_thirty_429s(
    platform: Platform,
) -> None:
    first, second = await platform.started(), await platform.started()  # two API processes, one Redis
    org = await first.use_cases.sign_up(
        SignUpCommand(name="Target", admin_email="ada@target.test", admin_password=PASSWORD)
    )
    # Half through the slug, half through the id, with the email in every spelling: one account.
    spellings = [org.organization.slug, str(org.organization.id)]
    emails = ["ada@target.test", " ADA@target.test", "\uff41\uff44\uff41@target.test"]  # the last: full-width "ada"
    async with (
        _client(first) as one,
        _client(second) as other,
    ):
        responses = await asyncio.gather(
            *(
                (one if n % 2 else other).post(
                    "/api/v1/auth/login",
                    json={
                        "organization": spellings[n % 2],
                        "email": emails[n % len(emails)],
                        "password": "not the password",
                    },
                )
                for n in range(ATTEMPTS)
            )
        )
        codes = Counter(r.status_code for r in responses)
        assert codes == {401: LIMIT, 429: ATTEMPTS - LIMIT}
        assert all(int(r.headers["retry-after"]) > 0 for r in responses if r.status_code == 429)
        right = await one.post(
            "/api/v1/auth/login",
            json={"organization": org.organization.slug, "email": "ada@target.test", "password": PASSWORD},
        )
        assert right.status_code == 429


def _client(container: Container) -> AsyncClient:
    # Litestar's AsyncTestClient serialises requests; httpx's ASGI transport runs them concurrently.
    app = create_app(container, run_schedules=False)
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver")  # type: ignore[arg-type]
