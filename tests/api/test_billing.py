"""Subscribing to PAID, renewals, history, and the effective plan as time passes."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.helpers import Account, Api, Json, assert_problem


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def history(api: Api, admin: Account) -> Json:
    response = await api.client.get("/api/v1/organizations/me/subscriptions", headers=admin.auth)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def trashed_video(api: Api, admin: Account) -> Json:
    video = await api.upload_ready(admin)
    assert (await api.client.delete(f"/api/v1/videos/{video['id']}", headers=admin.auth)).status_code == 204
    return video


async def test_subscribing_to_paid_starts_a_fifteen_day_subscription(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post("/api/v1/organizations/me/subscription", json={"plan": "PAID"}, headers=admin.auth)

    assert response.status_code == 201, response.text
    subscription = response.json()
    assert set(subscription) == {"id", "plan", "started_at", "ends_at", "active"}
    assert subscription["plan"]["code"] == "PAID"
    assert subscription["plan"]["can_restore_videos"] is True
    assert subscription["active"] is True
    assert at(subscription["ends_at"]) - at(subscription["started_at"]) == timedelta(days=15)
    org = (await api.client.get("/api/v1/organizations/me", headers=admin.auth)).json()
    assert org["subscription"]["id"] == subscription["id"]


async def test_history_lists_subscriptions_newest_first_with_the_trial_ended(api: Api) -> None:
    admin = await api.signup()
    paid = await api.subscribe(admin)

    found = await history(api, admin)

    assert (found["total"], found["limit"], found["offset"]) == (2, 20, 0)
    newest, trial = found["items"]
    assert (newest["id"], newest["plan"]["code"], newest["active"]) == (paid["id"], "PAID", True)
    assert (trial["plan"]["code"], trial["active"], trial["ends_at"]) == ("TRIAL", False, None)
    assert at(trial["started_at"]) <= at(newest["started_at"])


async def test_renewing_an_active_paid_plan_extends_it_from_its_current_end(api: Api) -> None:
    admin = await api.signup()
    first = await api.subscribe(admin)
    api.clock.advance(timedelta(days=3))
    admin = await api.again(admin)  # the old access token expired with the jump

    renewal = await api.subscribe(admin)

    assert at(renewal["ends_at"]) == at(first["ends_at"]) + timedelta(days=15)
    assert renewal["active"] is True
    items = (await history(api, admin))["items"]
    assert [(s["plan"]["code"], s["active"]) for s in items] == [("PAID", True), ("PAID", False), ("TRIAL", False)]


async def test_subscribing_to_an_unknown_plan_is_not_found(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post(
        "/api/v1/organizations/me/subscription", json={"plan": "PLATINUM"}, headers=admin.auth
    )

    assert_problem(response, 404, "plan_not_found")
    assert (await history(api, admin))["total"] == 1


async def test_a_member_cannot_subscribe_or_read_the_history(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)

    subscribe = await api.client.post(
        "/api/v1/organizations/me/subscription", json={"plan": "PAID"}, headers=member.auth
    )
    listing = await api.client.get("/api/v1/organizations/me/subscriptions", headers=member.auth)

    assert_problem(subscribe, 403, "admin_required")
    assert_problem(listing, 403, "admin_required")
    org = (await api.client.get("/api/v1/organizations/me", headers=member.auth)).json()
    assert org["subscription"]["plan"]["code"] == "TRIAL"


async def test_a_lapsed_paid_plan_grants_nothing_even_before_the_expiry_job_runs(api: Api) -> None:
    admin = await api.signup()
    paid = await api.subscribe(admin)
    video = await trashed_video(api, admin)

    api.clock.advance(timedelta(days=15, minutes=1))
    admin = await api.again(admin)  # the old access token expired with the jump

    restore = await api.client.post(f"/api/v1/videos/{video['id']}/restore", headers=admin.auth)
    assert_problem(restore, 403, "plan_required")
    org = (await api.client.get("/api/v1/organizations/me", headers=admin.auth)).json()
    assert (org["subscription"]["id"], org["subscription"]["active"]) == (paid["id"], False)


async def test_the_expiry_job_puts_a_lapsed_organization_back_on_trial(api: Api) -> None:
    admin = await api.signup()
    paid = await api.subscribe(admin)
    api.clock.advance(timedelta(days=16))
    admin = await api.again(admin)

    expired = await api.run(api.container.use_cases.expire_subscriptions)

    assert expired == 1
    org = (await api.client.get("/api/v1/organizations/me", headers=admin.auth)).json()
    assert org["subscription"]["plan"]["code"] == "TRIAL"
    assert (org["subscription"]["active"], org["subscription"]["ends_at"]) == (True, None)
    # The trial starts where the paid plan ended, and the history keeps the paid one.
    assert at(org["subscription"]["started_at"]) == at(paid["ends_at"])
    items = (await history(api, admin))["items"]
    assert [(s["plan"]["code"], s["active"]) for s in items] == [("TRIAL", True), ("PAID", False), ("TRIAL", False)]
    assert await api.run(api.container.use_cases.expire_subscriptions) == 0


async def test_the_expiry_job_leaves_active_paid_plans_alone(api: Api) -> None:
    admin = await api.signup()
    paid = await api.subscribe(admin)
    api.clock.advance(timedelta(days=14))
    admin = await api.again(admin)

    assert await api.run(api.container.use_cases.expire_subscriptions) == 0

    org = (await api.client.get("/api/v1/organizations/me", headers=admin.auth)).json()
    assert (org["subscription"]["id"], org["subscription"]["active"]) == (paid["id"], True)
    video = await trashed_video(api, admin)
    assert (await api.client.post(f"/api/v1/videos/{video['id']}/restore", headers=admin.auth)).status_code == 200
