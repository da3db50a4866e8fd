"""Faults in the production wiring, on servers these tests start and break themselves.

Redis stops while members stream; a SAQ worker is killed mid-job; PostgreSQL restarts under
load. The shared services on 5432/6379 are never touched: each scenario runs its own
redis-server and the module its own PostgreSQL cluster, on free loopback ports.
"""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from saq.queue.redis import RedisQueue
from sqlalchemy.engine import make_url

from tests.hardening.actors import (
    PROBLEM_JSON,
    Account,
    Tenant,
    add_ready_video,
    add_user,
    expect,
    login,
    sign_up,
    upload,
    wait_until_processed,
)
from tests.hardening.outages import (
    eventually_ready,
    exits_within,
    has_workers,
    points,
    production,
    readiness,
    start_worker,
    until,
    watch,
)
from tests.hardening.report import record
from tests.hardening.servers import PostgresServer, postgres_server, redis_server
from tests.hardening.wiring import Api, Backend, saq_worker, serving
from vidplat.adapters.saq.queue import PROCESS_VIDEO, PrefixedQueue
from vidplat.bootstrap import saq_queue_name

pytestmark = pytest.mark.asyncio(loop_scope="function")

VIEW_POINTS = 10


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresServer]:
    """This module's own PostgreSQL, free to be restarted."""
    with postgres_server() as server:
        yield server


# --- Redis ----------------------------------------------------------------------------------


@pytest.mark.parametrize("outage", ["killed", "frozen"])
async def test_redis_outage_keeps_playback_and_credits_exactly_once(
    cluster: PostgresServer, tmp_path: Path, sample_mp4: bytes, outage: str
) -> None:
    with redis_server() as redis:
        async with production(cluster, redis, tmp_path) as backend, serving(backend) as api:
            client = api.client
            async with saq_worker(backend):
                tenant = await sign_up(client)
                video = await add_ready_video(client, tenant, sample_mp4)
            members = [await add_user(client, tenant) for _ in range(6)]
            await asyncio.gather(*(watch(client, m, video, sample_mp4) for m in members[:3]))
            assert (await readiness(client))[0] == 200

            redis.kill() if outage == "killed" else redis.freeze()
            started = time.monotonic()
            status, body = await readiness(client)
            assert status == 503, body
            assert body["checks"] == {"database": "ok", "storage": "ok", "lock": "down", "job_queue": "down"}
            assert time.monotonic() - started < 5, "/ready must answer quickly when Redis is gone"

            # Players of members not credited yet: every request at once, twice over.
            for _ in range(2):
                slowest = max(await asyncio.gather(*(watch(client, m, video, sample_mp4) for m in members)))
                assert slowest < 3, f"crediting held playback up for {slowest:.1f}s while Redis is down"
            await api.container.use_cases.background.settled()  # the credits the streams left running
            for member in members:
                ledger = await points(client, member)
                assert ledger["total"] == VIEW_POINTS, ledger
                assert [c["video_id"] for c in ledger["items"]] == [video]
            await login(client, tenant.slug, members[0].email)  # throttling fails open

            refused = await upload_while_down(api, tenant, sample_mp4)

            redis.start() if outage == "killed" else redis.thaw()
            assert (await eventually_ready(client))["checks"] == {
                "database": "ok",
                "storage": "ok",
                "lock": "ok",
                "job_queue": "ok",
            }
            async with saq_worker(backend):
                again = await add_ready_video(client, tenant, sample_mp4)
                late = await add_user(client, tenant)
                await watch(client, late, again, sample_mp4)
                await api.container.use_cases.background.settled()
                assert (await points(client, late))["total"] == VIEW_POINTS
                if refused is not None:  # an upload refused during the outage must not stay `processing`
                    assert refused["status"] != "processing", refused
    record("faults", f"Redis {outage} while 6 members stream: playback on, 1 credit each, /ready 503, recovered")


async def upload_while_down(api: Api, tenant: Tenant, video: bytes) -> dict[str, Any] | None:
    """An upload during the outage is refused as unavailable, quickly; returns the video it may have left."""
    before = {
        v["id"] for v in expect(await api.client.get("/api/v1/videos", headers=tenant.admin.headers), 200)["items"]
    }
    started = time.monotonic()
    files: dict[str, tuple[str | None, bytes | str, str | None]] = {
        "title": (None, "During the outage", None),
        "file": ("clip.mp4", video, "video/mp4"),
    }
    answer = await api.client.post("/api/v1/videos", files=files, headers=tenant.admin.headers)
    assert time.monotonic() - started < 10, "an upload hung on the dead job queue"
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON)
    assert answer.json()["code"] == "service_unavailable"
    after = expect(await api.client.get("/api/v1/videos", headers=tenant.admin.headers), 200)["items"]
    left = [v for v in after if v["id"] not in before]
    return left[0] if left else None


# --- a SAQ worker killed mid-job ------------------------------------------------------------


async def test_a_job_of_a_killed_worker_is_retried_by_another(
    cluster: PostgresServer, tmp_path: Path, sample_mp4: bytes
) -> None:
    with redis_server() as redis:
        async with production(cluster, redis, tmp_path) as backend, serving(backend) as api:
            tenant = await sign_up(api.client)
            queue = PrefixedQueue.from_url(redis.url, name=saq_queue_name(backend.settings()))
            await queue.connect()
            try:
                video, job_key = await _kill_a_worker_mid_job(api, tenant, backend, queue, sample_mp4)
                # SAQ sweeps at most once per sweep interval across workers (a lock key the dead worker
                # took at start-up); let the interval pass at once instead of waiting a minute.
                await queue.redis.delete(queue.namespace("sweep"))
                async with saq_worker(backend):
                    processed = await wait_until_processed(api.client, tenant.admin, video, within=60)
                job = await queue.job(job_key)
            finally:
                await queue.disconnect()
            assert processed["status"] == "ready", processed
            assert job is not None
            assert job.attempts >= 2, job  # the same job, swept and run again
            member = await add_user(api.client, tenant)
            await watch(api.client, member, video, sample_mp4)
            stored = sorted(str(p.relative_to(backend.media_dir)) for p in backend.media_dir.rglob("*") if p.is_file())
            media = f"orgs/{tenant.organization_id}/videos/{video}/"
            files = [path for path in stored if ".hls/" not in path]
            assert len(files) == 2, stored  # the file and its thumbnail, nothing staged
            assert sum(path.endswith(".hls/master.m3u8") for path in stored) == 1, stored  # and its renditions
            assert all(path.startswith(media) for path in stored), stored
    record("faults", "SAQ worker SIGKILLed mid-job: swept, retried by a second worker, video ready, no staged file")


async def _kill_a_worker_mid_job(
    api: Api, tenant: Tenant, backend: Backend, queue: RedisQueue, video: bytes
) -> tuple[str, str]:
    """Run `vidplat worker`, hold its upload job inside the database, SIGKILL it; the video and job key."""
    holder = await asyncpg.connect(make_url(backend.database_url).set(drivername="postgresql").render_as_string(False))
    worker, log_path = start_worker(backend)
    try:
        await until(lambda: has_workers(queue), worker, log_path, "the worker did not start")
        # Paused while the job is queued, so the job meets the lock below and not the start-up sweep.
        worker.send_signal(signal.SIGSTOP)
        uploaded = (await upload(api.client, tenant.admin, video))["id"]
        transaction = holder.transaction()
        await transaction.start()
        # The job blocks on its first read of the video: it is running (and heartbeating) when killed.
        await holder.execute("LOCK TABLE videos IN ACCESS EXCLUSIVE MODE")
        pending = await holder.fetchval("SELECT pending_key FROM videos WHERE id = $1", uuid.UUID(uploaded))
        job_key = f"{PROCESS_VIDEO}:{pending}"
        worker.send_signal(signal.SIGCONT)
        await until(lambda: _running(queue, job_key, holder), worker, log_path, "the job did not start")
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        await transaction.rollback()
        return uploaded, job_key
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
        await holder.close()


async def test_a_worker_stops_promptly_on_sigterm(cluster: PostgresServer, tmp_path: Path) -> None:
    with redis_server() as redis:
        async with production(cluster, redis, tmp_path) as backend:
            queue = PrefixedQueue.from_url(redis.url, name=saq_queue_name(backend.settings()))
            await queue.connect()
            worker, log_path = start_worker(backend)
            try:
                await until(lambda: has_workers(queue), worker, log_path, "the worker did not start")
                worker.send_signal(signal.SIGTERM)
                stopped = await asyncio.to_thread(exits_within, worker, 5)
            finally:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait(10)
                await queue.disconnect()
            assert stopped, "vidplat worker was still running 5 s after SIGTERM"


async def _running(queue: RedisQueue, job_key: str, holder: asyncpg.Connection) -> bool:
    """The job is active in SAQ and its query waits on the held lock."""
    job = await queue.job(job_key)
    waiting = await holder.fetchval("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'videos'::regclass")
    return job is not None and job.status == "active" and waiting > 0


# --- PostgreSQL restarts --------------------------------------------------------------------


async def test_a_postgres_restart_under_load_is_503_then_recovers(
    cluster: PostgresServer, tmp_path: Path, sample_mp4: bytes
) -> None:
    with redis_server() as redis:
        async with production(cluster, redis, tmp_path) as backend, serving(backend) as api:
            client = api.client
            async with saq_worker(backend):
                tenant = await sign_up(client)
                video = await add_ready_video(client, tenant, sample_mp4)
            members = [await add_user(client, tenant) for _ in range(4)]
            answers: list[httpx.Response] = []
            stop = asyncio.Event()
            load = [asyncio.create_task(_keep_busy(client, m, video, answers, stop)) for m in members]
            await asyncio.sleep(0.5)

            await asyncio.to_thread(cluster.stop)
            await asyncio.sleep(0.3)
            status, body = await readiness(client)
            assert status == 503, body
            assert body["checks"]["database"] == "down", body
            await asyncio.sleep(1.0)
            await asyncio.to_thread(cluster.start)
            await eventually_ready(client)
            await asyncio.sleep(1.0)
            stop.set()
            await asyncio.gather(*load)

            _assert_only_success_or_unavailable(answers)
            unavailable = [a for a in answers if a.status_code == 503]
            assert unavailable, "no request met the outage"
            for member in members:  # the same app, never restarted, serves everyone again
                expect(await client.get("/api/v1/videos", headers=member.headers), 200)
                await watch(client, member, video, sample_mp4)
    record(
        "faults", f"PostgreSQL restarted under load: {len(answers)} requests, {len(unavailable)} x 503, 0 x 5xx else"
    )


async def _keep_busy(
    client: httpx.AsyncClient, member: Account, video: str, answers: list[httpx.Response], stop: asyncio.Event
) -> None:
    paths = ["/api/v1/videos", "/api/v1/users/me", f"/api/v1/videos/{video}/stream", "/api/v1/users/me/points"]
    turn = 0
    while not stop.is_set():
        path = paths[turn % len(paths)]
        turn += 1
        headers = {**member.headers, "Range": "bytes=0-99"} if path.endswith("stream") else member.headers
        answers.append(await client.get(path, headers=headers))
        await asyncio.sleep(0.01)


def _assert_only_success_or_unavailable(answers: list[httpx.Response]) -> None:
    for answer in answers:
        if answer.status_code in (200, 206):
            continue
        label = f"{answer.request.url.path}: {answer.status_code} {answer.text[:300]}"
        assert answer.status_code == 503, label
        assert answer.headers["content-type"].startswith(PROBLEM_JSON), label
        assert answer.json()["code"] == "service_unavailable", label
        assert "Traceback" not in answer.text, label
        assert "asyncpg" not in answer.text, label
