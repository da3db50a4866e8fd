"""Seeding through the public API: one organization, its members, and a catalog of ready videos."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

from bench.config import MEMBERS, VIDEOS
from bench.rawhttp import Api
from bench.services import fetch, insert_many
from bench.uploads import upload_ready
from vidplat.adapters.security.access_tokens import JwtTokenCodec
from vidplat.domain.accounts.model import AccessClaims, Role
from vidplat.domain.ids import new_id
from vidplat.settings import Settings

T = TypeVar("T")
ADMIN_EMAIL = "admin@bench.example"


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


async def seed(port: int, dsn: str, settings: Settings, big_video: Path, small_video: Path) -> World:
    api = Api(port)
    password = secrets.token_urlsafe(12)
    org_id, admin = await sign_up(api, "Bench Org", password)

    email = member_email(0)
    user = await api.call(
        "POST", "/api/v1/users", token=admin, payload={"email": email, "password": password}, expect=201
    )
    first = Member(id=user["id"], email=email, token=await login(api, org_id, email, password))
    others = await members_in_database(dsn, settings, UUID(org_id), first)
    videos = await bounded(2, [upload_ready(port, admin, big_video, "big"), *upload_batch(port, admin, small_video, 1)])
    members = [first, *others]
    big = videos[0]
    # What nginx must serve is the very file vidplat streams: its stored copy, found by its key.
    rows = await fetch(dsn, "SELECT storage_key FROM videos WHERE id = $1", UUID(big["id"]))
    return World(
        org_id=org_id,
        admin_token=admin,
        password=password,
        members=members,
        videos=[v["id"] for v in videos],
        big_size=big["size_bytes"],
        big_key=rows[0]["storage_key"],
    )


def member_email(index: int) -> str:
    return f"member{index:03d}@bench.example"


async def members_in_database(dsn: str, settings: Settings, org_id: UUID, first: Member) -> list[Member]:
    """The other members, written straight to the database with a session and a token each.

    Through the API each would cost two argon2 computations at the production cost, a minute
    of this machine's two cores for 200 members; the scenarios only need accounts that log in
    (S6 uses the first, made through the API) and valid sessions. They share the first
    member's password hash, so they do share its password, and tokens are minted by vidplat's
    own codec with the server's secret, as a login would.
    """
    [row] = await fetch(dsn, "SELECT password_hash FROM users WHERE id = $1", UUID(first.id))
    now = datetime.now(UTC)
    auth = settings.auth
    codec = JwtTokenCodec(auth.jwt_secret)
    session_ends = now + timedelta(days=auth.refresh_ttl_days)
    users, sessions, members = [], [], []
    for index in range(1, MEMBERS):
        user_id, session_id = new_id(), new_id()
        users.append((user_id, org_id, member_email(index), Role.MEMBER.value, row["password_hash"], now))
        sessions.append((session_id, user_id, org_id, now, session_ends))
        claims = AccessClaims(
            user_id=user_id,
            organization_id=org_id,
            session_id=session_id,
            role=Role.MEMBER,
            issued_at=now,
            expires_at=now + timedelta(seconds=auth.access_ttl_seconds),
        )
        members.append(Member(id=str(user_id), email=member_email(index), token=codec.encode_access(claims)))
    await insert_many(
        dsn,
        "INSERT INTO users (id, organization_id, email, role, password_hash, created_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        users,
    )
    await insert_many(
        dsn,
        "INSERT INTO sessions (id, user_id, organization_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        sessions,
    )
    return members


def upload_batch(
    port: int, token: str, path: Path, first: int, count: int = VIDEOS - 1
) -> list[Coroutine[Any, Any, Any]]:
    return [upload_ready(port, token, path, f"small {n}") for n in range(first, first + count)]


async def sign_up(api: Api, name: str, password: str) -> tuple[str, str]:
    """A new organization through the public API: its id and its admin's access token."""
    payload = {"name": name, "admin_email": ADMIN_EMAIL, "admin_password": password}
    org = await api.call("POST", "/api/v1/organizations", payload=payload, expect=201)
    org_id: str = org["id"]
    return org_id, await login(api, org_id, ADMIN_EMAIL, password)


async def login(api: Api, org_id: str, email: str, password: str) -> str:
    tokens = await api.call(
        "POST", "/api/v1/auth/login", payload={"organization": org_id, "email": email, "password": password}
    )
    token: str = tokens["access_token"]
    return token
