"""Plan quotas through the API: the organization's usage, and 403 quota_exceeded with nothing stored."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import text

from tests.api.helpers import Api, Json, assert_problem

SEEDED = {"TRIAL": (10 * 1024**3, 50), "PAID": (1024**4, None)}


@contextlib.asynccontextmanager
async def trial_limits(api: Api, *, storage: int | None, users: int | None) -> AsyncIterator[None]:
    """The TRIAL plan with these limits for the block, then its seeded ones (the plans outlive the test)."""

    async def set_limits(values: tuple[int | None, int | None]) -> None:
        async with api.container.engine.begin() as connection:
            await connection.execute(
                text("UPDATE plans SET max_storage_bytes = :storage, max_users = :users WHERE code = 'TRIAL'"),
                {"storage": values[0], "users": values[1]},
            )

    await api.run(lambda: set_limits((storage, users)))
    try:
        yield
    finally:
        await api.run(lambda: set_limits(SEEDED["TRIAL"]))


async def _usage(api: Api, account_auth: dict[str, str]) -> Json:
    response = await api.client.get("/api/v1/organizations/me", headers=account_auth)
    assert response.status_code == 200, response.text
    usage: Json = response.json()["usage"]
    return usage


async def test_the_organization_shows_its_storage_and_active_users(api: Api) -> None:
    admin = await api.signup()
    data = api.mp4()
    await api.upload_ready(admin, data)
    member = await api.create_member(admin)
    assert await _usage(api, admin.auth) == {"storage_bytes": len(data), "users": 2}

    deleted = await api.client.delete(f"/api/v1/users/{member.user_id}", headers=admin.auth)
    assert deleted.status_code == 204, deleted.text
    assert await _usage(api, admin.auth) == {"storage_bytes": len(data), "users": 1}


async def test_an_upload_past_the_storage_quota_is_refused_and_nothing_is_stored(api: Api) -> None:
    admin = await api.signup()
    data = api.mp4()
    async with trial_limits(api, storage=len(data) + len(data) // 2, users=None):
        await api.upload_ready(admin, data)
        keys = await api.stored_keys()

        refused = await api.upload(admin, data, "one too many")

        assert_problem(refused, 403, "quota_exceeded")
        assert await api.stored_keys() == keys
        assert (await _usage(api, admin.auth))["storage_bytes"] == len(data)


async def test_a_user_past_the_plan_limit_is_refused(api: Api) -> None:
    admin = await api.signup()
    async with trial_limits(api, storage=None, users=2):
        await api.create_member(admin)

        refused = await api.client.post(
            "/api/v1/users", json={"email": "third@example.com", "role": "member"}, headers=admin.auth
        )

        assert_problem(refused, 403, "quota_exceeded")
        assert (await _usage(api, admin.auth))["users"] == 2
