"""Self-service under /users/me and the admin's management of the organization's users."""

from __future__ import annotations

import pytest

from tests.api.helpers import PASSWORD, Api, assert_problem

USER_FIELDS = {"id", "email", "role", "organization_id", "points", "created_at"}


async def test_users_me_shows_the_caller(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.get("/api/v1/users/me", headers=admin.auth)

    assert response.status_code == 200
    user = response.json()
    assert set(user) == USER_FIELDS
    assert user == user | {"id": admin.user_id, "email": admin.email, "role": "admin", "points": 0}
    assert user["organization_id"] == admin.org_id


async def test_admin_creates_a_member_with_a_generated_password_shown_once(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post("/api/v1/users", json={"email": "Bob@Example.com"}, headers=admin.auth)

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == USER_FIELDS | {"initial_password"}
    assert created["email"] == "bob@example.com"
    assert created["role"] == "member"
    assert created["organization_id"] == admin.org_id
    assert len(created["initial_password"]) >= 16
    login = await api.login(admin.org_slug, "bob@example.com", created["initial_password"])
    assert login.status_code == 200
    shown_again = await api.client.get(f"/api/v1/users/{created['id']}", headers=admin.auth)
    assert "initial_password" not in shown_again.json()


async def test_admin_creates_a_user_with_a_chosen_password_and_role(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post(
        "/api/v1/users", json={"email": "eve@example.com", "password": PASSWORD, "role": "admin"}, headers=admin.auth
    )

    assert response.status_code == 201
    assert response.json()["role"] == "admin"
    assert "initial_password" not in response.json()
    assert (await api.login(admin.org_slug, "eve@example.com", PASSWORD)).status_code == 200


async def test_creating_a_user_with_a_taken_email_in_any_case_is_a_conflict(api: Api) -> None:
    admin = await api.signup()
    await api.create_member(admin, "carol@example.com")

    response = await api.client.post("/api/v1/users", json={"email": "CAROL@example.COM"}, headers=admin.auth)

    assert_problem(response, 409, "email_taken")


async def test_the_same_email_may_exist_in_another_organization(api: Api) -> None:
    admin = await api.signup()
    other = await api.signup()
    await api.create_member(admin, "shared@example.com")

    response = await api.client.post("/api/v1/users", json={"email": "shared@example.com"}, headers=other.auth)

    assert response.status_code == 201


async def test_a_member_is_forbidden_on_admin_routes(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    calls = [
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"email": "x@example.com"}),
        ("GET", f"/api/v1/users/{admin.user_id}", None),
        ("PATCH", f"/api/v1/users/{admin.user_id}", {"role": "member"}),
        ("DELETE", f"/api/v1/users/{admin.user_id}", None),
        ("GET", "/api/v1/organizations/me/subscriptions", None),
        ("POST", "/api/v1/organizations/me/subscription", {"plan": "PAID"}),
        ("GET", "/api/v1/videos/deleted", None),
    ]
    for method, path, body in calls:
        response = await api.client.request(method, path, json=body, headers=member.auth)

        assert_problem(response, 403, "admin_required")


async def test_users_list_filters_by_role_and_email_and_paginates(api: Api) -> None:
    admin = await api.signup(email="boss@example.com")
    for name in ("anna", "bert", "cleo"):
        await api.create_member(admin, f"{name}@team.example.com")

    everyone = (await api.client.get("/api/v1/users", headers=admin.auth)).json()
    members = (await api.client.get("/api/v1/users", params={"role": "member"}, headers=admin.auth)).json()
    admins = (await api.client.get("/api/v1/users", params={"role": "admin"}, headers=admin.auth)).json()
    by_email = (await api.client.get("/api/v1/users", params={"q": "BERT"}, headers=admin.auth)).json()
    second_page = (await api.client.get("/api/v1/users", params={"limit": 2, "offset": 2}, headers=admin.auth)).json()

    assert (everyone["total"], everyone["limit"], everyone["offset"]) == (4, 20, 0)
    assert set(everyone["items"][0]) == USER_FIELDS
    assert {u["email"] for u in members["items"]} == {f"{n}@team.example.com" for n in ("anna", "bert", "cleo")}
    assert members["total"] == 3
    assert [u["email"] for u in admins["items"]] == ["boss@example.com"]
    assert [u["email"] for u in by_email["items"]] == ["bert@team.example.com"]
    assert (second_page["total"], second_page["limit"], second_page["offset"]) == (4, 2, 2)
    assert len(second_page["items"]) == 2
    first_page = (await api.client.get("/api/v1/users", params={"limit": 2}, headers=admin.auth)).json()
    assert {u["id"] for u in first_page["items"]}.isdisjoint(u["id"] for u in second_page["items"])


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"role": "owner"}],
    ids=["limit-0", "limit-101", "offset-neg", "bad-role"],
)
async def test_users_list_rejects_out_of_range_query_parameters(api: Api, params: dict[str, int | str]) -> None:
    admin = await api.signup()

    response = await api.client.get("/api/v1/users", params=params, headers=admin.auth)

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == next(iter(params))


async def test_admin_changes_a_users_role(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    response = await api.client.patch(f"/api/v1/users/{member.user_id}", json={"role": "admin"}, headers=admin.auth)

    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    # The role is read per request: the promoted member's existing token can use admin routes now.
    assert (await api.client.get("/api/v1/users", headers=member.auth)).status_code == 200


async def test_admin_password_reset_revokes_the_users_tokens(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    response = await api.client.patch(
        f"/api/v1/users/{member.user_id}", json={"password": "a brand new secret"}, headers=admin.auth
    )

    assert response.status_code == 200
    assert_problem(await api.client.get("/api/v1/users/me", headers=member.auth), 401, None)
    assert (await api.login(admin.org_slug, member.email, member.password)).status_code == 401
    assert (await api.login(admin.org_slug, member.email, "a brand new secret")).status_code == 200


async def test_an_admin_cannot_reset_a_password_to_an_invalid_one(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    response = await api.client.patch(f"/api/v1/users/{member.user_id}", json={"password": "short"}, headers=admin.auth)

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"][0]["field"] == "password"


async def test_the_last_admin_cannot_be_demoted_or_deleted(api: Api) -> None:
    admin = await api.signup()
    await api.create_member(admin)

    demote = await api.client.patch(f"/api/v1/users/{admin.user_id}", json={"role": "member"}, headers=admin.auth)
    delete = await api.client.delete(f"/api/v1/users/{admin.user_id}", headers=admin.auth)
    delete_me = await api.client.delete("/api/v1/users/me", headers=admin.auth)

    assert_problem(demote, 409, "last_admin")
    assert_problem(delete, 409, "last_admin")
    assert_problem(delete_me, 409, "last_admin")
    assert (await api.client.get("/api/v1/users/me", headers=admin.auth)).json()["role"] == "admin"


async def test_an_admin_may_step_down_while_another_admin_remains(api: Api) -> None:
    admin = await api.signup()
    second = await api.create_user(admin, role="admin")

    response = await api.client.patch(f"/api/v1/users/{admin.user_id}", json={"role": "member"}, headers=second.auth)

    assert response.status_code == 200
    assert response.json()["role"] == "member"


async def test_deleting_own_account_kills_the_token_and_the_login(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    response = await api.client.delete("/api/v1/users/me", headers=member.auth)

    assert response.status_code == 204
    assert_problem(await api.client.get("/api/v1/users/me", headers=member.auth), 401, None)
    assert_problem(await api.login(admin.org_slug, member.email, member.password), 401, "invalid_credentials")


async def test_deleted_users_disappear_from_lists_and_lookups(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    response = await api.client.delete(f"/api/v1/users/{member.user_id}", headers=admin.auth)

    assert response.status_code == 204
    listing = (await api.client.get("/api/v1/users", headers=admin.auth)).json()
    assert [u["id"] for u in listing["items"]] == [admin.user_id]
    assert listing["total"] == 1
    assert_problem(await api.client.get(f"/api/v1/users/{member.user_id}", headers=admin.auth), 404, "user_not_found")
    assert_problem(await api.client.get("/api/v1/users/me", headers=member.auth), 401, None)


async def test_changing_own_password_revokes_other_sessions_but_keeps_this_one(api: Api) -> None:
    admin = await api.signup()
    elsewhere = await api.again(admin)

    response = await api.client.put(
        "/api/v1/users/me/password",
        json={"current_password": admin.password, "new_password": "another good secret"},
        headers=admin.auth,
    )

    assert response.status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=admin.auth)).status_code == 200
    assert_problem(await api.client.get("/api/v1/users/me", headers=elsewhere.auth), 401, None)
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": elsewhere.refresh_token})
    assert refresh.status_code == 401
    assert (await api.login(admin.org_slug, admin.email, admin.password)).status_code == 401
    assert (await api.login(admin.org_slug, admin.email, "another good secret")).status_code == 200


async def test_changing_own_password_with_a_wrong_current_one_is_refused(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.put(
        "/api/v1/users/me/password",
        json={"current_password": "not my password", "new_password": "another good secret"},
        headers=admin.auth,
    )

    assert_problem(response, 400, "wrong_password")
    assert (await api.login(admin.org_slug, admin.email, admin.password)).status_code == 200


async def test_points_start_empty(api: Api) -> None:
    admin = await api.signup()

    assert await api.points(admin) == {"total": 0, "items": [], "limit": 20, "offset": 0, "next_cursor": None}


async def test_a_bad_role_names_the_field_and_the_roles_allowed(api: Api) -> None:
    admin = await api.signup()

    new_user = {"email": "x@example.com", "role": "boss"}
    created = await api.client.post("/api/v1/users", json=new_user, headers=admin.auth)
    listed = await api.client.get("/api/v1/users", params={"role": "boss"}, headers=admin.auth)

    for response in (created, listed):
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"] == [{"field": "role", "message": "must be one of: admin, member ('boss' is not)"}]
        assert body["detail"] == "role: must be one of: admin, member ('boss' is not)"
