"""The app under test in either wiring, with cheap password hashing, a movable clock and a real SAQ worker.

The app is served by httpx's ASGITransport in the test's own event loop, with its lifespan run
here: unlike Litestar's test clients (which call the app through a blocking portal, one request
at a time), concurrent requests then really are concurrent, and the app, its container and an
in-test SAQ worker all share one loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import httpx
from litestar import Litestar
from saq.types import PartialTimersDict

from vidplat.adapters.saq.queue import RetryPolicy
from vidplat.adapters.sql.migrate import run_migrations_async
from vidplat.bootstrap import Container, bootstrap
from vidplat.domain.ports import Clock
from vidplat.entrypoints.http.app import create_app
from vidplat.entrypoints.worker import make_worker
from vidplat.settings import Settings

JWT_SECRET = "hardening-jwt-secret-" + "j" * 24
PLAYBACK_SECRET = "hardening-playback-secret-" + "p" * 24
WEBHOOKS_KEY = "hardening-webhooks-key-" + "w" * 24
OPS_USER, OPS_PASSWORD = "ops", "hardening-ops-password"
# argon2's cheapest parameters: tests log in hundreds of times.
CHEAP_ARGON2 = {"VIDPLAT_ARGON2_TIME_COST": "1", "VIDPLAT_ARGON2_MEMORY_KIB": "8", "VIDPLAT_ARGON2_PARALLELISM": "1"}
# Every client of these tests is one loopback address: per-address throttling would stop them.
UNTHROTTLED_ADDRESSES = {
    "VIDPLAT_LOGIN_ADDRESS_MAX_ATTEMPTS": "1000000",
    "VIDPLAT_SIGNUP_ADDRESS_MAX_ATTEMPTS": "1000000",
}
# A dead attempt is noticed in about a second and retried at once.
FAST_RETRIES = RetryPolicy(timeout_seconds=60, heartbeat_seconds=1, retries=3, retry_delay_seconds=0.1)
WORKER_TIMERS: PartialTimersDict = {"schedule": 1, "sweep": 1, "abort": 1, "worker_info": 5}

Message = dict[str, Any]


class Wiring(StrEnum):
    EMBEDDED = "embedded"  # SQLite, in-process lock and jobs
    PRODUCTION = "production"  # PostgreSQL, Redis lock and SAQ


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """Where one app's state lives; several apps (and workers) built from it share that state."""

    wiring: Wiring
    data_dir: Path
    database_url: str
    redis_url: str | None = None
    redis_prefix: str = "vidplat"

    def settings(self, **extra: str) -> Settings:
        return Settings.from_env(self.environment(**extra))

    def environment(self, **extra: str) -> dict[str, str]:
        """The backend as VIDPLAT_* variables: for Settings, or for a `vidplat` subprocess."""
        env = {
            "VIDPLAT_DATA_DIR": str(self.data_dir),
            "VIDPLAT_DATABASE_URL": self.database_url,
            "VIDPLAT_JWT_SECRET": JWT_SECRET,
            "VIDPLAT_PLAYBACK_SECRET": PLAYBACK_SECRET,
            "VIDPLAT_WEBHOOKS_KEY": WEBHOOKS_KEY,
            "VIDPLAT_REDIS_PREFIX": self.redis_prefix,
            **CHEAP_ARGON2,
            **UNTHROTTLED_ADDRESSES,
            **extra,
        }
        if self.redis_url is not None:
            env["VIDPLAT_REDIS_URL"] = self.redis_url
        return env

    @property
    def media_dir(self) -> Path:
        return self.settings().media_dir


async def migrate(backend: Backend) -> None:
    backend.data_dir.mkdir(parents=True, exist_ok=True)
    await run_migrations_async(backend.database_url)


def build_app(
    backend: Backend, *, clock: Clock | None = None, env: Mapping[str, str] | None = None
) -> tuple[Litestar, Container]:
    container = bootstrap(backend.settings(**(env or {})), clock=clock, job_policy=FAST_RETRIES)
    return create_app(container, run_schedules=False), container


@dataclass(frozen=True, slots=True)
class Api:
    """A running app and an HTTP client to it."""

    client: httpx.AsyncClient
    app: Litestar
    container: Container


@contextlib.asynccontextmanager
async def serving(
    backend: Backend, *, clock: Clock | None = None, env: Mapping[str, str] | None = None
) -> AsyncIterator[Api]:
    """A started app and a client to it; the app's container is closed on the way out."""
    app, container = build_app(backend, clock=clock, env=env)
    transport = httpx.ASGITransport(app=cast("Any", app))  # Litestar types its ASGI callable more narrowly
    async with (
        lifespan(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=30) as client,
    ):
        yield Api(client, app, container)


@contextlib.asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run the ASGI lifespan protocol around the block, as a server does."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, to_app.get, from_app.put))  # type: ignore[arg-type]
    await to_app.put({"type": "lifespan.startup"})
    started = await from_app.get()
    if started["type"] != "lifespan.startup.complete":
        await task
        raise RuntimeError(f"the app did not start: {started}")
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        await from_app.get()
        await task


@contextlib.asynccontextmanager
async def saq_worker(backend: Backend) -> AsyncIterator[None]:
    """A real SAQ worker on the backend's queue in this event loop, with its own container (as a process would)."""
    if backend.redis_url is None:
        yield  # embedded: the app runs its jobs itself
        return
    container = bootstrap(backend.settings(), job_policy=FAST_RETRIES)
    worker = make_worker(container, concurrency=2, timers=WORKER_TIMERS)
    worker.SIGNALS = []  # the test runner owns the signal handlers
    await container.start(run_schedules=False)
    task = asyncio.create_task(worker.start())
    try:
        yield
    finally:
        # Cancelled first: SAQ's stop() can otherwise wait for its upkeep loops to sleep out their timers.
        for running in list(worker.tasks):
            running.cancel()
        await worker.stop()  # its shutdown closes the container
        await task
