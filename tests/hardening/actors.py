"""Organizations, users and videos made through the public API, as a client would."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
PROBLEM_JSON = "application/problem+json"


@dataclass(slots=True)
class Account:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


@dataclass(slots=True)
class Tenant:
    organization_id: str
    slug: str
    admin: Account
    members: list[Account] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)

    @property
    def member(self) -> Account:
        return self.members[0]


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def expect(response: Any, status: int) -> dict[str, Any]:
    """The JSON body of a response that must have this status (the body is shown when it has not)."""
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.text}"
    json_body = "json" in response.headers.get("content-type", "")
    body: dict[str, Any] = response.json() if response.content and json_body else {}
    return body


async def login(client: httpx.AsyncClient, slug: str, email: str, password: str = PASSWORD) -> Account:
    body = {"organization": slug, "email": email, "password": password}
    tokens = expect(await client.post("/api/v1/auth/login", json=body), 200)
    me = expect(await client.get("/api/v1/users/me", headers=_bearer(tokens["access_token"])), 200)
    return Account(email, password, me["id"], tokens["access_token"], tokens["refresh_token"])


async def sign_up(client: httpx.AsyncClient, name: str | None = None) -> Tenant:
    name = name or unique("Org")
    email = f"admin@{name.lower()}.example.com"
    body = {"name": name, "admin_email": email, "admin_password": PASSWORD}
    org = expect(await client.post("/api/v1/organizations", json=body), 201)
    return Tenant(org["id"], org["slug"], await login(client, org["slug"], email))


async def add_user(client: httpx.AsyncClient, tenant: Tenant, *, role: str = "member") -> Account:
    email = f"{unique(role)}@example.com"
    body = {"email": email, "password": PASSWORD, "role": role}
    expect(await client.post("/api/v1/users", json=body, headers=tenant.admin.headers), 201)
    account = await login(client, tenant.slug, email)
    if role == "member":
        tenant.members.append(account)
    return account


async def upload(client: httpx.AsyncClient, admin: Account, data: bytes, *, title: str = "Clip") -> dict[str, Any]:
    """POST /videos with a multipart form: the title first, then the file."""
    files: dict[str, tuple[str | None, bytes | str, str | None]] = {
        "title": (None, title, None),
        "file": ("clip.mp4", data, "video/mp4"),
    }
    return expect(await client.post("/api/v1/videos", files=files, headers=admin.headers), 202)


async def wait_until_processed(
    client: httpx.AsyncClient, admin: Account, video_id: str, within: float = 30
) -> dict[str, Any]:
    """The video once it left `processing` (in production wiring a SAQ worker must be running)."""
    deadline = time.monotonic() + within
    while True:
        video = expect(await client.get(f"/api/v1/videos/{video_id}", headers=admin.headers), 200)
        if video["status"] != "processing" and not video.get("replacement_pending"):
            return video
        assert time.monotonic() < deadline, f"video {video_id} still processing after {within}s"
        await asyncio.sleep(0.1)


async def add_ready_video(client: httpx.AsyncClient, tenant: Tenant, data: bytes) -> str:
    video = await upload(client, tenant.admin, data)
    processed = await wait_until_processed(client, tenant.admin, video["id"])
    assert processed["status"] == "ready", processed
    tenant.videos.append(video["id"])
    return str(video["id"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The problem details of a refused request."""
    label = f"{response.request.method} {response.request.url.path}"
    assert response.status_code in statuses, f"{label}: {response.status_code} {response.text[:300]}"
    assert response.headers["content-type"].startswith(PROBLEM_JSON), label
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code, body
    assert body["code"], body
    for leak in ("Traceback", "site-packages", "src/vidplat", "sqlalchemy", "asyncpg"):
        assert leak not in response.text, label
    return body
