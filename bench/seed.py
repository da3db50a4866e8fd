"""Seeding through the public API: one organization, its members, and a catalog of ready videos."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from bench.config import MEMBERS, VIDEOS
from bench.rawhttp import Api
from bench.services import fetch
from bench.uploads import upload_ready

T = TypeVar("T")
# Each member costs two argon2 hashes (create, login); a few in flight keep both workers' cores busy.
SEED_CONCURRENCY = 6


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    email: str
    token: str


@dataclass(frozen=True, slots=True)
class World:
    org_id: str
    admin_token: str
    password: str  # every seeded account's password
    members: list[Member]
    videos: list[str]  # the catalog's ids; the first is the big one
    big_size: int
    big_key: str  # its storage key under the media directory (what nginx serves)


async def bounded(concurrency: int, jobs: Iterable[Coroutine[Any, Any, T]]) -> list[T]:
    """Await the jobs with at most `concurrency` running at once, keeping their order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Coroutine[Any, Any, T]) -> T:
        try:
            async with gate:
                return await job
        finally:
            job.close()  # a job still queued when the run is cancelled was never started

    return await asyncio.gather(*(one(job) for job in jobs))


async def seed(port: int, dsn: str, big_video: Path, small_video: Path) -> World:
    api = Api(port)
    password = secrets.token_urlsafe(12)
    org = await api.call(
        "POST",
        "/api/v1/organizations",
        payload={"name": "Bench Org", "admin_email": "admin@bench.example", "admin_password": password},
        expect=201,
    )
    admin = await login(api, org["id"], "admin@bench.example", password)

    async def member(index: int) -> Member:
        email = f"member{index:03d}@bench.example"
        user = await api.call(
            "POST", "/api/v1/users", token=admin, payload={"email": email, "password": password}, expect=201
        )
        return Member(id=user["id"], email=email, token=await login(api, org["id"], email, password))

    # The uploads (disk and the worker) overlap with the hashing-bound member accounts.
    catalog = bounded(2, [upload_ready(port, admin, big_video, "big"), *upload_batch(port, admin, small_video, 1)])
    videos, members = await asyncio.gather(catalog, bounded(SEED_CONCURRENCY, [member(i) for i in range(MEMBERS)]))
    big = videos[0]
    # What nginx must serve is the very file vidplat streams: its stored copy, found by its key.
    rows = await fetch(dsn, "SELECT storage_key FROM videos WHERE id = $1", UUID(big["id"]))
    return World(
        org_id=org["id"],
        admin_token=admin,
        password=password,
        members=members,
        videos=[v["id"] for v in videos],
        big_size=big["size_bytes"],
        big_key=rows[0]["storage_key"],
    )


def upload_batch(
    port: int, token: str, path: Path, first: int, count: int = VIDEOS - 1
) -> list[Coroutine[Any, Any, Any]]:
    return [upload_ready(port, token, path, f"small {n}") for n in range(first, first + count)]


async def login(api: Api, org_id: str, email: str, password: str) -> str:
    tokens = await api.call(
        "POST", "/api/v1/auth/login", payload={"organization": org_id, "email": email, "password": password}
    )
    token: str = tokens["access_token"]
    return token
