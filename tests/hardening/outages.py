"""Helpers of the fault tests: databases on a throwaway cluster, players, readiness, worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from saq.queue.redis import RedisQueue
from sqlalchemy.engine import make_url

from tests.hardening.actors import Account, expect
from tests.hardening.servers import PostgresServer, RedisServer
from tests.hardening.wiring import Backend, Wiring, migrate
from tests.services import admin_execute


@contextlib.asynccontextmanager
async def database(cluster: PostgresServer) -> AsyncIterator[str]:
    """A fresh, empty database on the cluster, dropped afterwards."""
    name = f"faults_{secrets.token_hex(4)}"
    await admin_execute(cluster.url, f'CREATE DATABASE "{name}"')
    url = make_url(cluster.url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):  # the cluster may be down if the test failed mid-restart
            await admin_execute(cluster.url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def production(cluster: PostgresServer, redis: RedisServer, tmp_path: Path) -> AsyncIterator[Backend]:
    """The production wiring on these servers, with a migrated database of its own."""
    async with database(cluster) as url:
        backend = Backend(
            wiring=Wiring.PRODUCTION, data_dir=tmp_path, database_url=url, redis_url=redis.url, redis_prefix="faults"
        )
        await migrate(backend)
        yield backend


async def watch(client: httpx.AsyncClient, member: Account, video: str, expected: bytes, requests: int = 4) -> float:
    """A player's first seconds: concurrent range requests; every byte must be right. Returns the slowest."""
    size = len(expected)
    spans = [(i * size // requests, (i + 1) * size // requests - 1) for i in range(requests)]

    async def fetch(first: int, last: int) -> float:
        started = time.monotonic()
        headers = {**member.headers, "Range": f"bytes={first}-{last}"}
        answer = await client.get(f"/api/v1/videos/{video}/stream", headers=headers)
        assert answer.status_code == 206, answer.text
        assert answer.content == expected[first : last + 1]
        return time.monotonic() - started

    return max(await asyncio.gather(*(fetch(first, last) for first, last in spans)))


async def points(client: httpx.AsyncClient, member: Account) -> dict[str, Any]:
    return expect(await client.get("/api/v1/users/me/points", headers=member.headers), 200)


async def readiness(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    answer = await client.get("/ready")
    return answer.status_code, answer.json()


async def eventually_ready(client: httpx.AsyncClient, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        status, body = await readiness(client)
        if status == 200:
            return body
        assert time.monotonic() < deadline, f"not ready after {within}s: {body}"
        await asyncio.sleep(0.2)


def start_worker(backend: Backend) -> tuple[subprocess.Popen[bytes], Path]:
    """`vidplat worker` as its own process, configured like the app; its output goes to a log file."""
    log_path = backend.data_dir / f"worker-{secrets.token_hex(3)}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")} | backend.environment()
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "vidplat.entrypoints.cli", "worker"], env=env, stdout=log, stderr=log
        )
    return worker, log_path


def exits_within(process: subprocess.Popen[bytes], seconds: float) -> bool:
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


async def has_workers(queue: RedisQueue) -> bool:
    return bool((await queue.info())["workers"])


async def until(
    condition: Callable[[], Awaitable[bool]], worker: subprocess.Popen[bytes], log: Path, failure: str
) -> None:
    deadline = time.monotonic() + 45
    while not await condition():
        assert worker.poll() is None, f"vidplat worker exited: {tail(log)}"
        assert time.monotonic() < deadline, f"{failure}: {tail(log)}"
        await asyncio.sleep(0.1)


def tail(log: Path) -> str:
    return log.read_text()[-3000:]
