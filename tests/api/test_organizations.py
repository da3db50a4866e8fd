"""Signing up, the organization overview and the public plan list."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.api.helpers import PASSWORD, Api, assert_problem, unique

PLANS = [
    {
        "code": "TRIAL",
        "price": 0,
        "duration_days": None,
        "can_restore_videos": False,
        "max_storage_bytes": 10 * 1024**3,
        "max_users": 50,
    },
    {
        "code": "PAID",
        "price": 10000,
        "duration_days": 15,
        "can_restore_videos": True,
        "max_storage_bytes": 1024**4,
        "max_users": None,
    },
]


def signup_body(name: str, email: str = "ada@example.com", password: str = PASSWORD) -> dict[str, str]:
    return {"name": name, "admin_email": email, "admin_password": password}


async def test_signup_creates_the_organization_on_an_open_ended_trial(api: Api) -> None:
    response = await api.client.post("/api/v1/organizations", json=signup_body("Acme Video Corp"))

    assert response.status_code == 201, response.text
    org = response.json()
    assert set(org) == {"id", "name", "slug", "created_at", "subscription", "usage"}
    assert org["usage"] == {"storage_bytes": 0, "users": 1}
    assert org["name"] == "Acme Video Corp"
    assert org["slug"] == "acme-video-corp"
    assert datetime.fromisoformat(org["created_at"]).utcoffset() is not None
    subscription = org["subscription"]
    assert set(subscription) == {"id", "plan", "started_at", "ends_at", "active"}
    assert subscription["plan"]["code"] == "TRIAL"
    assert subscription["active"] is True
    assert subscription["ends_at"] is None


async def test_signup_makes_the_first_user_an_admin_who_can_log_in_by_slug(api: Api) -> None:
    await api.client.post("/api/v1/organizations", json=signup_body("Initech"))

    admin = await api.sign_in("initech", "ada@example.com", PASSWORD)
    me = await api.client.get("/api/v1/users/me", headers=admin.auth)

    assert me.json()["role"] == "admin"
    assert me.json()["email"] == "ada@example.com"


async def test_signup_with_a_taken_name_in_any_case_is_a_conflict(api: Api) -> None:
    first = await api.client.post("/api/v1/organizations", json=signup_body("Globex"))
    assert first.status_code == 201

    again = await api.client.post("/api/v1/organizations", json=signup_body("gLOBEX", "other@example.com"))

    assert_problem(again, 409, "organization_name_taken")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (signup_body("Acme", email="not-an-email"), "admin_email"),
        (signup_body("Acme", password="short"), "admin_password"),
        (signup_body("Acme", password="x" * 129), "admin_password"),
        (signup_body("   "), "name"),
        ({"name": "Acme", "admin_email": "ada@example.com"}, "admin_password"),
        ({**signup_body("Acme"), "plan": "PAID"}, "plan"),
    ],
    ids=["bad-email", "short-password", "long-password", "blank-name", "missing-password", "unknown-field"],
)
async def test_signup_with_an_invalid_body_lists_the_failing_field(api: Api, body: dict[str, str], field: str) -> None:
    response = await api.client.post("/api/v1/organizations", json=body)

    problem = assert_problem(response, 422, "validation_error")
    assert problem["errors"], problem
    assert all(set(error) == {"field", "message"} for error in problem["errors"])
    assert field in {error["field"] for error in problem["errors"]}


async def test_signup_with_malformed_json_is_a_bad_request(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/organizations", content=b'{"name": "Acme",', headers={"Content-Type": "application/json"}
    )

    problem = assert_problem(response, 400, None)
    assert "errors" not in problem


async def test_organization_me_shows_the_callers_organization(api: Api) -> None:
    name = unique("Umbrella")
    admin = await api.signup(name)

    response = await api.client.get("/api/v1/organizations/me", headers=admin.auth)

    assert response.status_code == 200
    org = response.json()
    assert org["id"] == admin.org_id
    assert org["name"] == name
    assert org["subscription"]["plan"]["code"] == "TRIAL"


async def test_organization_me_needs_a_token(api: Api) -> None:
    response = await api.client.get("/api/v1/organizations/me")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_plans_are_public_and_match_the_contract(api: Api) -> None:
    response = await api.client.get("/api/v1/plans")

    assert response.status_code == 200
    items = response.json()["items"]
    assert set(items[0]) == {
        "code",
        "name",
        "price",
        "duration_days",
        "can_restore_videos",
        "max_storage_bytes",
        "max_users",
    }
    by_code = {plan["code"]: {k: v for k, v in plan.items() if k != "name"} for plan in items}
    assert by_code == {plan["code"]: plan for plan in PLANS}


@pytest.mark.api_settings(VIDPLAT_SIGNUP="closed")
async def test_closed_signup_refuses_new_organizations_and_creates_nothing(api: Api) -> None:
    response = await api.client.post("/api/v1/organizations", json=signup_body("Closed Shop"))

    assert_problem(response, 403, "signup_closed")
    assert (await api.login("closed-shop", "ada@example.com", PASSWORD)).status_code == 401
    assert (await api.client.get("/api/v1/plans")).status_code == 200  # the rest of the public API is open


@pytest.mark.parametrize(("first", "second"), [("Straße", "STRASSE"), ("\u01c4ungla", "\u01c6ungla")])
async def test_organization_names_are_unique_beyond_ascii_case(api: Api, first: str, second: str) -> None:
    await api.signup(name=first)

    again = await api.client.post(
        "/api/v1/organizations", json={"name": second, "admin_email": "x@example.com", "admin_password": PASSWORD}
    )

    assert_problem(again, 409, "organization_name_taken")
