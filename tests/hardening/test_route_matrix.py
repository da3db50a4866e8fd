"""Tenant isolation and access control for every route the app serves, generated from its route table.

For each (route, method): without a token it is refused (401) unless public; an admin route refuses
members (403); and an admin of another organization using this organization's ids gets exactly
what a nonexistent id gets (404), leaving the data as it was.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.hardening.actors import PROBLEM_JSON, Account, Tenant, add_ready_video, add_user, expect, sign_up
from tests.hardening.report import record
from tests.hardening.routes import Access, Operation, operations, request_bodies
from tests.hardening.wiring import OPS_PASSWORD, OPS_USER, Api, Backend, saq_worker, serving
from vidplat.entrypoints.http.ops import OPS_PATH

pytestmark = pytest.mark.asyncio(loop_scope="module")

OPS_ENV = {"VIDPLAT_OPS_USER": OPS_USER, "VIDPLAT_OPS_PASSWORD": OPS_PASSWORD}
# A's webhook endpoints point at the discard port on loopback: whatever is delivered goes nowhere.
WEBHOOK_ENV = {"VIDPLAT_WEBHOOKS_ALLOW_PRIVATE": "1"}


@dataclass(frozen=True, slots=True)
class World:
    wiring: str
    api: Api
    a: Tenant  # the organization whose objects are probed
    b: Tenant  # the intruder
    ids: dict[str, list[str]]  # A's objects, per path parameter name
    openapi: dict[str, Any]
    video: bytes

    @property
    def operations(self) -> list[Operation]:
        return operations(self.api.app)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(backend: Backend, sample_mp4: bytes) -> AsyncIterator[World]:
    async with serving(backend, env=OPS_ENV | WEBHOOK_ENV) as api, saq_worker(backend):
        client = api.client
        a, b = await sign_up(client), await sign_up(client)
        await add_user(client, a)
        await add_user(client, b)
        ready = await add_ready_video(client, a, sample_mp4)
        trashed = await add_ready_video(client, a, sample_mp4)
        expect(await client.delete(f"/api/v1/videos/{trashed}", headers=a.admin.headers), 204)
        await add_ready_video(client, b, sample_mp4)
        tus = {"Tus-Resumable": "1.0.0", "Upload-Length": "10", "Upload-Metadata": "title VGl0bGU="}
        uploads = []
        for _ in range(2):
            created = await client.post("/api/v1/uploads", headers={**a.admin.headers, **tus})
            expect(created, 201)
            uploads.append(created.headers["location"].rsplit("/", 1)[1])
        hooks = [
            expect(await client.post("/api/v1/webhooks", json={"url": url}, headers=a.admin.headers), 201)["id"]
            for url in ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
        ]
        ids = {
            "video_id": [ready, trashed],
            "user_id": [a.member.user_id, a.admin.user_id],
            "webhook_id": hooks,
            "upload_id": uploads,
        }
        openapi = expect(await client.get("/docs/openapi.json"), 200)
        yield World(backend.wiring.value, api, a, b, ids, openapi, sample_mp4)


async def test_every_route_is_public_or_guarded(world: World) -> None:
    found = world.operations
    holes = [op.label for op in found if op.access is Access.UNGUARDED]
    assert not holes, f"neither public, docs, ops (Basic guard) nor behind the token middleware: {holes}"
    by_access = {access: sum(op.access is access for op in found) for access in Access}
    routes = len({op.path for op in found})
    summary = ", ".join(f"{count} {access.value}" for access, count in by_access.items() if count)
    admin = sum(op.admin_only for op in found)
    record(
        "route matrix",
        f"[{world.wiring}] {routes} routes x methods = {len(found)} operations ({summary}; {admin} admin-only)",
    )


async def test_the_document_says_which_operations_need_a_token(world: World) -> None:
    documented = 0
    for op in world.operations:
        spec = world.openapi["paths"].get(op.openapi_path, {}).get(op.method.lower())
        if spec is None:
            continue
        documented += 1
        needs_token = spec.get("security", world.openapi["security"]) != [{}]
        assert needs_token == (op.access is Access.AUTHENTICATED), f"{op.label}: security {spec.get('security')}"
    assert documented >= 25


async def test_routes_refuse_callers_without_credentials(world: World) -> None:
    checked = 0
    for op in world.operations:
        if op.access not in (Access.AUTHENTICATED, Access.OPS):
            continue
        url = op.url({name: values[0] for name, values in world.ids.items()})
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic b3BzOndyb25n"}):
            response = await world.api.client.request(op.method, url, headers=headers)
            assert response.status_code == 401, f"{op.label} with {headers or 'no credentials'}: {response.text}"
            if op.method != "HEAD":
                assert response.headers["content-type"].startswith(PROBLEM_JSON), op.label
            expected = "Basic" if op.access is Access.OPS else "Bearer"
            assert response.headers["www-authenticate"].startswith(expected), op.label
            checked += 1
    record("route matrix", f"[{world.wiring}] {checked} requests without valid credentials -> 401")


async def test_preflights_answer_allow_without_credentials(world: World) -> None:
    preflights = [op for op in world.operations if op.access is Access.PREFLIGHT]
    for op in preflights:
        response = await world.api.client.options(op.url({name: values[0] for name, values in world.ids.items()}))
        assert response.status_code == 204, f"{op.label}: {response.text}"
        assert response.headers["allow"], op.label
        assert not response.content, op.label
    record("route matrix", f"[{world.wiring}] {len(preflights)} automatic OPTIONS, no credentials -> 204 Allow")


async def test_operators_monitor_lets_operators_in(world: World) -> None:
    ops = [
        op
        for op in world.operations
        if op.access is Access.OPS and op.method == "GET" and "{" not in op.path and op.path.startswith(OPS_PATH)
    ]
    if not world.api.container.settings.ops_user or world.api.container.saq_queue is None:
        assert not ops, "the monitor must be off without Redis and operator credentials"
        return
    credentials = base64.b64encode(f"{OPS_USER}:{OPS_PASSWORD}".encode()).decode()
    for op in ops:
        # /ops/queues redirects to /ops/queues/, the page the monitor's own router knows.
        response = await world.api.client.get(
            op.path, headers={"Authorization": f"Basic {credentials}"}, follow_redirects=True
        )
        assert response.status_code == 200, op.label


async def test_admin_routes_refuse_members(world: World) -> None:
    checked = 0
    for op in world.operations:
        if not op.admin_only or op.access is Access.PREFLIGHT:
            continue
        url = op.url({name: values[0] for name, values in world.ids.items()})
        for body in request_bodies(world.openapi, op, world.video):
            response = await world.api.client.request(op.method, url, headers=world.a.member.headers, **body)
            assert response.status_code == 403, f"{op.label} as a member: {response.text}"
            if op.method != "HEAD":
                assert response.json()["code"] == "admin_required", op.label
            checked += 1
    assert checked, "no admin route found: is admin_only still the admin guard?"
    record("route matrix", f"[{world.wiring}] {checked} admin-only requests as a member -> 403")


async def test_other_organizations_ids_are_not_found(world: World) -> None:
    before = await _snapshot(world.api.client, world.a)
    checked = 0
    for op in world.operations:
        if not op.id_parameters or op.access is not Access.AUTHENTICATED:
            continue
        for index in range(2):
            ids = {name: world.ids[name][index] for name in op.id_parameters}
            assert set(ids) == set(op.id_parameters), f"{op.label}: no object of A for {op.id_parameters}"
            for body in request_bodies(world.openapi, op, world.video):
                for intruder in (world.b.admin, world.b.member):
                    await _assert_indistinguishable_from_missing(world, op, ids, body, intruder)
                    checked += 1
    assert await _snapshot(world.api.client, world.a) == before, "an intruder changed the organization's data"
    staged = world.api.container.settings.media_dir / "orgs" / world.b.organization_id / "uploads"
    assert not [p for p in staged.rglob("*") if p.is_file()], "a refused replacement left its bytes behind"
    line = f"[{world.wiring}] {checked} requests by B's admin and member with A's ids -> same as missing (404)"
    record("route matrix", line)


def _protocol_headers(op: Operation) -> dict[str, str]:
    """tus routes refuse a request that does not speak the protocol before looking anything up."""
    if not op.path.startswith("/api/v1/uploads"):
        return {}
    return {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}


async def _assert_indistinguishable_from_missing(
    world: World, op: Operation, ids: dict[str, str], body: dict[str, Any], intruder: Account
) -> None:
    """The answer to another organization's object is the answer to no object at all: 404 for an admin."""
    client = world.api.client
    headers = {**intruder.headers, **_protocol_headers(op)}
    foreign = await client.request(op.method, op.url(ids), headers=headers, **body)
    missing_ids = {name: str(uuid.uuid4()) for name in ids}
    missing = await client.request(op.method, op.url(missing_ids), headers=headers, **body)
    assert foreign.status_code == missing.status_code, f"{op.label}: {foreign.text} vs missing: {missing.text}"
    if intruder is world.b.admin:
        assert foreign.status_code == 404, f"{op.label} with A's ids as B's admin: {foreign.text}"
    if op.method != "HEAD":
        assert foreign.json()["code"] == missing.json()["code"], op.label
        assert not set(ids.values()) & set(foreign.text.split('"')), f"{op.label} echoes the foreign id"


async def _snapshot(client: httpx.AsyncClient, tenant: Tenant) -> list[Any]:
    """What the organization's admin and members can see of it."""
    admin = tenant.admin.headers
    paths = [
        "/api/v1/organizations/me",
        "/api/v1/organizations/me/subscriptions?limit=100",
        "/api/v1/users?limit=100",
        "/api/v1/videos?limit=100",
        "/api/v1/videos/deleted?limit=100",
        *(f"/api/v1/users/{member.user_id}" for member in tenant.members),
        *(f"/api/v1/videos/{video}" for video in tenant.videos[:1]),
    ]
    seen = [expect(await client.get(path, headers=admin), 200) for path in paths]
    seen += [expect(await client.get("/api/v1/users/me/points", headers=m.headers), 200) for m in tenant.members]
    return seen
