"""Logging in, throttling, refresh-token rotation with reuse detection, logout."""

from __future__ import annotations

import pytest

from tests.api.helpers import Api, assert_problem, bearer


async def test_login_by_slug_returns_bearer_tokens(api: Api) -> None:
    admin = await api.signup()

    response = await api.login(admin.org_slug, admin.email, admin.password)

    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0


async def test_login_by_organization_id_and_any_email_case_works(api: Api) -> None:
    admin = await api.signup()

    response = await api.login(admin.org_id, admin.email.upper(), admin.password)

    assert response.status_code == 200
    me = await api.client.get("/api/v1/users/me", headers=bearer(response.json()["access_token"]))
    assert me.json()["id"] == admin.user_id


async def test_wrong_password_unknown_email_and_unknown_org_get_the_same_answer(api: Api) -> None:
    admin = await api.signup()

    attempts = [
        (admin.org_slug, admin.email, "wrong password"),
        (admin.org_slug, "nobody@example.com", admin.password),
        ("no-such-org", admin.email, admin.password),
        ("0190f0f0-0000-7000-8000-000000000000", admin.email, admin.password),
    ]
    for org, email, password in attempts:
        assert_problem(await api.login(org, email, password), 401, "invalid_credentials")


async def test_eleventh_failed_login_is_throttled_with_retry_after(api: Api) -> None:
    admin = await api.signup()
    for _ in range(10):
        assert_problem(await api.login(admin.org_slug, admin.email, "wrong password"), 401, "invalid_credentials")

    throttled = await api.login(admin.org_slug, admin.email, admin.password)

    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0


async def test_refresh_rotates_the_refresh_token(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})

    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["refresh_token"] != admin.refresh_token
    assert tokens["token_type"] == "bearer"
    me = await api.client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200


async def test_reusing_a_spent_refresh_token_revokes_the_whole_session(api: Api) -> None:
    admin = await api.signup()
    rotated = (await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})).json()

    reused = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})

    assert_problem(reused, 401, "refresh_token_reused")
    newest = await api.client.get("/api/v1/users/me", headers=bearer(rotated["access_token"]))
    assert_problem(newest, 401, None)
    again = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 401


async def test_reuse_revokes_only_that_session(api: Api) -> None:
    admin = await api.signup()
    other = await api.again(admin)
    await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})

    await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})

    assert (await api.client.get("/api/v1/users/me", headers=other.auth)).status_code == 200


async def test_an_unknown_refresh_token_is_rejected(api: Api) -> None:
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-real-token"})

    assert_problem(response, 401, None)


async def test_logout_revokes_the_access_and_refresh_tokens_of_the_session(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post("/api/v1/auth/logout", headers=admin.auth)

    assert response.status_code == 204
    assert_problem(await api.client.get("/api/v1/users/me", headers=admin.auth), 401, None)
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert refresh.status_code == 401


async def test_requests_without_a_token_or_with_garbage_are_unauthenticated(api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer garbage"}, {"Authorization": "Basic YWRhOnB3"}):
        response = await api.client.get("/api/v1/users/me", headers=headers)

        assert_problem(response, 401, None)


async def test_failures_through_the_slug_also_throttle_the_organization_id(api: Api) -> None:
    admin = await api.signup()
    for n in range(10):
        email = admin.email.upper() if n % 2 else f"  {admin.email} "
        assert_problem(await api.login(admin.org_slug, email, "wrong password"), 401, "invalid_credentials")

    assert_problem(await api.login(admin.org_id, admin.email, admin.password), 429, "too_many_attempts")


@pytest.mark.api_settings(VIDPLAT_LOGIN_ADDRESS_MAX_ATTEMPTS=3)
async def test_logins_from_one_address_are_throttled_across_accounts(api: Api) -> None:
    admin = await api.signup()  # its own login is the first attempt from this address
    for n in range(2):
        assert_problem(await api.login(admin.org_slug, f"guess{n}@example.com", "guess"), 401, "invalid_credentials")

    throttled = await api.login(admin.org_slug, admin.email, admin.password)

    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0


@pytest.mark.api_settings(VIDPLAT_SIGNUP_ADDRESS_MAX_ATTEMPTS=2)
async def test_signups_from_one_address_are_throttled(api: Api) -> None:
    for n in range(2):
        body = {"name": f"Burst {n}", "admin_email": f"a{n}@burst.test", "admin_password": "a long password"}
        assert (await api.client.post("/api/v1/organizations", json=body)).status_code == 201

    body = {"name": "Burst 3", "admin_email": "a3@burst.test", "admin_password": "a long password"}
    throttled = await api.client.post("/api/v1/organizations", json=body)

    assert_problem(throttled, 429, "too_many_attempts")
    assert int(throttled.headers["retry-after"]) > 0
