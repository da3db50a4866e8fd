"""Security headers on every response, a closed-by-default CORS policy, and private caching of media."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from tests.hardening.actors import Tenant, add_ready_video, add_user, sign_up
from tests.hardening.report import record
from tests.hardening.routes import operations
from tests.hardening.servers import free_port
from tests.hardening.wiring import OPS_PASSWORD, OPS_USER, Api, Backend, saq_worker, serving
from vidplat.entrypoints.http.headers import API_POLICY

pytestmark = pytest.mark.asyncio(loop_scope="module")

ORIGIN = "https://app.example.com"
EVIL = "https://evil.example.net"
OPS_ENV = {"VIDPLAT_OPS_USER": OPS_USER, "VIDPLAT_OPS_PASSWORD": OPS_PASSWORD, "VIDPLAT_CORS_ORIGINS": ORIGIN}
OPS_AUTH = {"Authorization": "Basic " + base64.b64encode(f"{OPS_USER}:{OPS_PASSWORD}".encode()).decode()}


@dataclass(frozen=True, slots=True)
class World:
    wiring: str
    api: Api
    tenant: Tenant
    video: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(backend: Backend, sample_mp4: bytes) -> AsyncIterator[World]:
    async with serving(backend, env=OPS_ENV) as api, saq_worker(backend):
        tenant = await sign_up(api.client)
        await add_user(api.client, tenant)
        yield World(backend.wiring.value, api, tenant, await add_ready_video(api.client, tenant, sample_mp4))


def assert_secured(response: httpx.Response) -> None:
    label = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", label
    assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), label
    assert headers.get("x-frame-options") == "DENY", label
    assert headers.get("referrer-policy") == "no-referrer", label
    assert "server" not in headers, label
    assert "cache-control" in headers, label


async def test_every_route_answers_with_security_headers(world: World) -> None:
    client, ids = world.api.client, {"video_id": world.video, "user_id": world.tenant.member.user_id}
    responses = 0
    for op in operations(world.api.app):
        # Anonymous calls change nothing; the member's reads show the authenticated answers.
        for headers in ({}, world.tenant.member.headers if op.method in ("GET", "HEAD") else {}):
            assert_secured(await client.request(op.method, op.url(ids), headers=headers))
            responses += 1
    for path in ("/nowhere", "/api/v1/videos/not-a-uuid", "/docs/nothing.json"):
        assert_secured(await client.get(path))
    assert_secured(await client.put("/health"))  # 405
    record("security headers", f"[{world.wiring}] {responses + 4} responses of every route carry the headers")


async def test_api_responses_allow_nothing_to_load_or_frame_them(world: World) -> None:
    for path in ("/health", "/api/v1/plans", "/api/v1/users/me", "/nowhere"):
        response = await world.api.client.get(path, headers=world.tenant.admin.headers)
        assert response.headers["content-security-policy"] == API_POLICY, path
        assert response.headers["cache-control"] == "no-store", path


@pytest.mark.parametrize("page", ["/docs", "/docs/scalar"])
async def test_docs_pages_may_load_what_they_reference(world: World, page: str) -> None:
    response = await world.api.client.get(page)
    assert response.status_code == 200
    assert_secured(response)
    policy = _policy(response.headers["content-security-policy"])
    for tag, attribute, directive in (("script", "src", "script-src"), ("link", "href", "style-src")):
        for url in re.findall(rf"<{tag}[^>]*\s{attribute}=[\"']([^\"']+)", response.text):
            if tag == "link" and "stylesheet" not in _tag_around(response.text, url):
                continue
            assert _allowed(url, policy[directive]), f"{page}: {url} is not allowed by {directive}"
    if _inline_scripts(response.text):
        assert "'unsafe-inline'" in policy["script-src"], page


async def test_ops_monitor_without_its_trailing_slash_redirects_to_the_page(world: World) -> None:
    """The monitor's page routes only `/ops/queues/`: without the slash it showed its own 404."""
    response = await world.api.client.get("/ops/queues?x=1", headers=OPS_AUTH, follow_redirects=False)
    if world.api.container.saq_queue is None:  # embedded: no SAQ, so no monitor
        assert response.status_code == 404
        return
    assert response.status_code == 308
    assert response.headers["location"] == "/ops/queues/?x=1"
    assert_secured(response)


async def test_ops_monitor_scripts_are_allowed_by_hash(world: World) -> None:
    response = await world.api.client.get("/ops/queues/", headers=OPS_AUTH)
    if world.api.container.saq_queue is None:  # embedded: no SAQ, so no monitor
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert_secured(response)
    policy = _policy(response.headers["content-security-policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    inline = _inline_scripts(response.text)
    assert inline, "the monitor page changed: review OPS_SCRIPT and the CSP"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"], f"inline script not allowed: {script!r}"
    for url in re.findall(r"<script[^>]*\ssrc=\"([^\"]+)", response.text):
        assert url.startswith("/"), url  # same origin: 'self'


async def test_authenticated_media_may_only_be_cached_privately(world: World) -> None:
    client, member = world.api.client, world.tenant.member.headers
    stream = f"/api/v1/videos/{world.video}/stream"
    full = await client.get(stream, headers=member)
    answers = [
        full,
        await client.get(stream, headers={**member, "Range": "bytes=0-99"}),
        await client.get(stream, headers={**member, "Range": "bytes=999999999-"}),
        await client.get(stream, headers={**member, "If-None-Match": full.headers["etag"]}),
        await client.head(stream, headers=member),
        await client.get(f"/api/v1/videos/{world.video}/thumbnail", headers=member),
    ]
    assert [a.status_code for a in answers] == [200, 206, 416, 304, 200, 200]
    # The stored type, not the `video/*` the document declares for the route.
    assert [a.headers.get("content-type") for a in (full, answers[1], answers[4])] == ["video/mp4"] * 3
    for answer in answers:
        assert_secured(answer)
        cache = answer.headers["cache-control"]
        assert "private" in cache, cache
        assert "public" not in cache, cache
    refused = await client.get(stream)
    assert refused.status_code == 401
    assert refused.headers["cache-control"] == "no-store"


async def test_cors_admits_only_configured_origins(world: World) -> None:
    client = world.api.client
    preflight = {"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"}
    allowed = await client.options("/api/v1/videos", headers={"Origin": ORIGIN, **preflight})
    assert allowed.status_code in (200, 204)
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert_secured(allowed)
    refused = await client.options("/api/v1/videos", headers={"Origin": EVIL, **preflight})
    assert "access-control-allow-origin" not in refused.headers
    simple = await client.get("/api/v1/plans", headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_is_closed_by_default(backend: Backend) -> None:
    async with serving(backend) as api:
        for origin in (ORIGIN, EVIL, "null"):
            headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
            preflight = await api.client.options("/api/v1/auth/login", headers=headers)
            assert "access-control-allow-origin" not in preflight.headers, origin
            simple = await api.client.get("/api/v1/plans", headers={"Origin": origin})
            assert "access-control-allow-origin" not in simple.headers, origin
            assert_secured(simple)


async def test_the_real_server_does_not_announce_its_software(tmp_path: Path) -> None:
    """`vidplat serve` (uvicorn) in embedded mode: no `server` header, and the middleware is in place."""
    response = await asyncio.to_thread(_health_from_a_real_server, tmp_path)
    assert response.status_code == 200
    assert_secured(response)
    assert "date" in response.headers  # uvicorn's own headers are there, its `server` one is not


def _health_from_a_real_server(data_dir: Path, timeout: float = 30) -> httpx.Response:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")}
    env |= {"VIDPLAT_DATA_DIR": str(data_dir), "VIDPLAT_LOG_LEVEL": "WARNING"}
    command = [sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)]
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log)  # noqa: S603 - a fixed argument list
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            except httpx.TransportError:
                assert server.poll() is None, f"vidplat serve exited: {log_path.read_text()[-2000:]}"
                assert time.monotonic() < deadline, "vidplat serve did not answer"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)


def _policy(header: str) -> dict[str, list[str]]:
    directives = (part.split() for part in header.split(";") if part.strip())
    policy = {name: sources for name, *sources in directives}
    default = policy.get("default-src", [])
    return {name: policy.get(name, default) for name in ("script-src", "style-src", "img-src", "connect-src")}


def _allowed(url: str, sources: list[str]) -> bool:
    if url.startswith("/") and not url.startswith("//"):
        return "'self'" in sources
    return any(source.startswith("https://") and url.startswith(source) for source in sources)


def _inline_scripts(page: str) -> list[str]:
    return [
        body
        for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
        if "src=" not in attributes and body.strip()
    ]


def _tag_around(page: str, url: str) -> str:
    start = page.rfind("<", 0, page.find(url))
    return page[start : page.find(">", start)]
