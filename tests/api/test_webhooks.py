"""Webhooks over HTTP on both wirings: admin CRUD, tenancy, the SSRF refusal, and signed deliveries."""

from __future__ import annotations

import asyncio

import pytest

from tests.api.helpers import Account, Api, Json, assert_problem
from tests.receiver import Receiver, receiver

ALLOW_PRIVATE = pytest.mark.api_settings(VIDPLAT_WEBHOOKS_ALLOW_PRIVATE="1")
POLLS = 1200  # of 50 ms


async def _create(api: Api, admin: Account, url: str, events: list[str] | None = None) -> Json:
    body: Json = {"url": url} if events is None else {"url": url, "events": events}
    response = await api.client.post("/api/v1/webhooks", json=body, headers=admin.auth)
    assert response.status_code == 201, response.text
    created: Json = response.json()
    return created


async def _arrivals(hook: Receiver, count: int) -> None:
    """Wait until the receiver has had `count` requests (delivery is asynchronous)."""
    for _ in range(POLLS):
        if len(hook.received) >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{len(hook.received)} of {count} webhook requests arrived")


@ALLOW_PRIVATE
async def test_admin_creates_lists_and_deletes_endpoints_and_sees_the_secret_only_at_creation(api: Api) -> None:
    admin = await api.signup()
    created = await _create(api, admin, "http://127.0.0.1:9/hooks", ["video.ready"])
    assert created["secret"].startswith("whsec_")
    assert (created["url"], created["events"]) == ("http://127.0.0.1:9/hooks", ["video.ready"])
    everything = await _create(api, admin, "http://127.0.0.1:9/all")
    assert everything["events"] == sorted(
        ["video.ready", "video.failed", "subscription.activated", "subscription.expired"]
    )

    listed = (await api.client.get("/api/v1/webhooks", params={"limit": 1}, headers=admin.auth)).json()
    assert (listed["total"], listed["limit"], len(listed["items"])) == (2, 1, 1)
    assert all("secret" not in item for item in listed["items"])

    deleted = await api.client.delete(f"/api/v1/webhooks/{created['id']}", headers=admin.auth)
    assert deleted.status_code == 204
    left = (await api.client.get("/api/v1/webhooks", headers=admin.auth)).json()
    assert [item["id"] for item in left["items"]] == [everything["id"]]
    gone = await api.client.get(f"/api/v1/webhooks/{created['id']}/deliveries", headers=admin.auth)
    assert_problem(gone, 404, "webhook_not_found")


@ALLOW_PRIVATE
async def test_another_organizations_endpoint_is_not_found_and_members_are_refused(api: Api) -> None:
    ours, theirs = await api.signup(), await api.signup()
    member = await api.create_member(ours)
    hook = await _create(api, ours, "http://127.0.0.1:9/hooks")

    for response in (
        await api.client.delete(f"/api/v1/webhooks/{hook['id']}", headers=theirs.auth),
        await api.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=theirs.auth),
    ):
        assert_problem(response, 404, "webhook_not_found")
    assert (await api.client.get("/api/v1/webhooks", headers=theirs.auth)).json()["total"] == 0
    assert_problem(await api.client.get("/api/v1/webhooks", headers=member.auth), 403, "admin_required")
    refused = await api.client.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=member.auth)
    assert_problem(refused, 403, "admin_required")


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8000/hooks", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/"],
)
async def test_a_url_inside_the_network_is_refused_without_allow_private(api: Api, url: str) -> None:
    admin = await api.signup()
    response = await api.client.post("/api/v1/webhooks", json={"url": url}, headers=admin.auth)
    body = assert_problem(response, 422, "webhook_url_refused")
    assert body["errors"][0]["field"] == "url"
    assert (await api.client.get("/api/v1/webhooks", headers=admin.auth)).json()["total"] == 0


async def test_unknown_event_types_and_other_schemes_are_refused(api: Api) -> None:
    admin = await api.signup()
    unknown = await api.client.post(
        "/api/v1/webhooks", json={"url": "https://hooks.example.com/", "events": ["video.deleted"]}, headers=admin.auth
    )
    assert_problem(unknown, 422, "validation_error")
    scheme = await api.client.post("/api/v1/webhooks", json={"url": "file:///etc/passwd"}, headers=admin.auth)
    assert_problem(scheme, 422, "webhook_url_refused")


@ALLOW_PRIVATE
async def test_a_video_becoming_ready_and_a_purchase_are_delivered_signed_with_the_api_shapes(api: Api) -> None:
    admin = await api.signup()
    with receiver() as hook:
        created = await _create(api, admin, hook.url)
        video = await api.upload_ready(admin)
        await _arrivals(hook, 1)
        subscription = await api.subscribe(admin)
        await _arrivals(hook, 2)

    ready, activated = (request.verified(created["secret"]) for request in hook.received)
    assert isinstance(ready, dict)
    assert isinstance(activated, dict)
    assert (ready["type"], ready["data"]) == ("video.ready", video)
    assert activated["type"] == "subscription.activated"
    assert activated["data"] == subscription
    log = await _delivered(api, admin, created["id"], 2)
    assert [(d["type"], d["attempts"], d["last_status_code"]) for d in log] == [
        ("subscription.activated", 1, 200),
        ("video.ready", 1, 200),
    ]
    assert all(d["delivered_at"] is not None for d in log)


async def _delivered(api: Api, admin: Account, endpoint_id: str, count: int) -> list[Json]:
    """The delivery log once `count` deliveries are recorded delivered (the outcome commits after the response)."""
    items: list[Json] = []
    for _ in range(POLLS):
        response = await api.client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=admin.auth)
        items = response.json()["items"]
        if sum(d["status"] == "delivered" for d in items) >= count:
            return items
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} deliveries marked delivered: {items}")
