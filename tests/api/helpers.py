"""Driving the wired app over HTTP: accounts, uploads and polling, shared by the API tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.harness import BackgroundWorker
from tests.clock import ShiftableClock
from tests.media import make_mp4
from vidplat.bootstrap import Container, MediaStore

T = TypeVar("T")

PASSWORD = "correct horse battery"
PROBLEM_JSON = "application/problem+json"

# Polling for background processing: short sleeps, and an upper bound generous enough never to be
# reached on a healthy machine (it only stops a broken run from hanging).
POLL_INTERVAL_SECONDS = 0.05
MAX_POLLS = 600

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in user and the organization they belong to."""

    org_id: str
    org_slug: str
    user_id: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.access_token)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def assert_problem(response: httpx.Response, status: int, code: str | None) -> Json:
    """An RFC 9457 problem with the given status and machine code (None: any snake_case code); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: Json = response.json()
    assert body["status"] == status
    assert re.fullmatch(r"[a-z]+(_[a-z]+)*", body["code"]), body
    if code is not None:
        assert body["code"] == code, body
    assert {"type", "title", "detail"} <= body.keys()
    return body


def unique(prefix: str) -> str:
    return f"{prefix} {uuid4().hex[:8]}"


@dataclass(slots=True)
class Api:
    """The app under test, its HTTP client, the container behind it and the test's clock."""

    client: AsyncTestClient[Litestar]
    container: Container
    clock: ShiftableClock
    wiring: str
    storage: MediaStore
    scratch_dir: Path
    worker: BackgroundWorker | None = None
    _mp4_cache: dict[tuple[float, int, int], bytes] = field(default_factory=dict)

    # --- running code next to the app -----------------------------------------------------

    async def run(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Await fn in the app's event loop (the test client's portal), without blocking this one."""
        return await asyncio.wrap_future(self.client.blocking_portal.start_task_soon(fn))

    @contextlib.asynccontextmanager
    async def processing_held(self) -> AsyncIterator[bool]:
        """Hold background processing for the block when the wiring allows it; yields whether it does.

        The production wiring's worker is stopped and started again afterwards (queued jobs wait
        in Redis). The embedded runner is part of the app process and cannot be held: False.
        """
        if self.worker is None:
            yield False
            return
        await self.worker.stop()
        try:
            yield True
        finally:
            self.worker.start()

    # --- accounts -------------------------------------------------------------------------

    async def signup(self, name: str | None = None, email: str | None = None, password: str = PASSWORD) -> Account:
        """A new organization, signed in as its first admin."""
        email = email or f"admin-{uuid4().hex[:8]}@example.com"
        response = await self.client.post(
            "/api/v1/organizations",
            json={"name": name or unique("Org"), "admin_email": email, "admin_password": password},
        )
        assert response.status_code == 201, response.text
        org: Json = response.json()
        return await self.sign_in(org["slug"], email, password)

    async def login(self, organization: str, email: str, password: str) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"organization": organization, "email": email, "password": password}
        )

    async def sign_in(self, organization: str, email: str, password: str) -> Account:
        response = await self.login(organization, email, password)
        assert response.status_code == 200, response.text
        tokens: Json = response.json()
        me = await self.client.get("/api/v1/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200, me.text
        org = await self.client.get("/api/v1/organizations/me", headers=bearer(tokens["access_token"]))
        return Account(
            org_id=me.json()["organization_id"],
            org_slug=org.json()["slug"],
            user_id=me.json()["id"],
            email=email,
            password=password,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    async def again(self, account: Account) -> Account:
        """A second, independent session of the same user."""
        return await self.sign_in(account.org_slug, account.email, account.password)

    async def create_user(
        self, admin: Account, email: str | None = None, role: str = "member", password: str = PASSWORD
    ) -> Account:
        """A user created by the admin, signed in."""
        email = email or f"{role}-{uuid4().hex[:8]}@example.com"
        response = await self.client.post(
            "/api/v1/users", json={"email": email, "password": password, "role": role}, headers=admin.auth
        )
        assert response.status_code == 201, response.text
        return await self.sign_in(admin.org_slug, email, password)

    async def create_member(self, admin: Account, email: str | None = None) -> Account:
        return await self.create_user(admin, email)

    async def subscribe(self, admin: Account, plan: str = "PAID") -> Json:
        response = await self.client.post(
            "/api/v1/organizations/me/subscription", json={"plan": plan}, headers=admin.auth
        )
        assert response.status_code == 201, response.text
        body: Json = response.json()
        return body

    # --- videos ---------------------------------------------------------------------------

    def mp4(self, *, seconds: float = 1.0, width: int = 64, height: int = 48) -> bytes:
        """A small real H.264 MP4 (cached per shape: the encoder is deterministic)."""
        shape = (seconds, width, height)
        if shape not in self._mp4_cache:
            path = make_mp4(self.scratch_dir / f"{uuid4().hex}.mp4", seconds=seconds, width=width, height=height)
            self._mp4_cache[shape] = path.read_bytes()
        return self._mp4_cache[shape]

    async def upload(
        self,
        account: Account,
        data: bytes,
        title: str | None = "Clip",
        *,
        description: str | None = None,
        filename: str = "clip.mp4",
        content_type: str = "video/mp4",
    ) -> httpx.Response:
        fields = {"title": title, "description": description}
        return await self.client.post(
            "/api/v1/videos",
            data={k: v for k, v in fields.items() if v is not None},
            files={"file": (filename, data, content_type)},
            headers=account.auth,
        )

    async def upload_ready(self, admin: Account, data: bytes | None = None, title: str = "Clip") -> Json:
        """Upload a video and wait until it has been processed; it must end up ready."""
        response = await self.upload(admin, self.mp4() if data is None else data, title)
        assert response.status_code == 202, response.text
        video = await self.wait_ready(admin, response.json()["id"])
        assert video["status"] == "ready", video
        return video

    async def wait_ready(self, admin: Account, video_id: str) -> Json:
        """Poll GET /videos/{id} until no upload of it is pending (processing is asynchronous)."""
        for _ in range(MAX_POLLS):
            response = await self.client.get(f"/api/v1/videos/{video_id}", headers=admin.auth)
            assert response.status_code == 200, response.text
            video: Json = response.json()
            if video["status"] != "processing" and not video.get("replacement_pending"):
                return video
            await asyncio.sleep(POLL_INTERVAL_SECONDS)
        raise AssertionError(f"video {video_id} still processing after {MAX_POLLS} polls")

    async def stream(
        self, account: Account | None, video_id: str, headers: Mapping[str, str] | None = None, *, method: str = "GET"
    ) -> httpx.Response:
        merged = {**(account.auth if account else {}), **(headers or {})}
        path = f"/api/v1/videos/{video_id}/stream"
        return await self.client.request(method, path, headers=merged, follow_redirects=False)

    async def settled(self) -> None:
        """Wait for what the app left running after its answers: the view credits of streams."""
        await self.run(self.container.use_cases.background.settled)

    async def points(self, account: Account) -> Json:
        """The account's points statement, once the credits of the streams answered so far are committed."""
        await self.settled()
        response = await self.client.get("/api/v1/users/me/points", headers=account.auth)
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body

    # --- files the app left behind ---------------------------------------------------------

    async def stored_keys(self) -> list[str]:
        """Every object in the store (local files or S3), read in the app's loop."""

        async def keys() -> list[str]:
            return sorted([stored.key async for stored in self.storage.list("")])

        return await self.run(keys)
