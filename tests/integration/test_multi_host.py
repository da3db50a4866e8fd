"""Multi-host proof: API and worker processes sharing only PostgreSQL, Redis and an S3 store.

Three `vidplat serve` processes (two in proxy delivery, one in redirect) and two workers, each
with its own empty data directory (scratch copies) and no media directory in common, run on one
database, one Redis prefix and one moto S3 server. The first worker hangs mid-job, just after
publishing the upload to its final key, and is SIGKILLed; the second, a plain `vidplat worker`,
retries the job once SAQ sees the heartbeat go stale. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from tests.integration.conftest import JWT_SECRET, PLAYBACK_SECRET, eventually
from tests.integration.test_worker import _DOOMED_WORKER, AFTER_MOVING_THE_FILE
from tests.media import make_mp4
from tests.s3 import S3Service
from vidplat.domain.videos.keys import hls_prefix, thumbnail_key

PASSWORD = "correct horse battery staple"
VIDPLAT = str(Path(sys.executable).parent / "vidplat")
# The default job heartbeat is 30 s and SAQ's sweep runs every minute: a stale job is retried within ~90 s.
RETRY_WITHIN_SECONDS = 150


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Host:
    """One process of the deployment, on its own data directory."""

    name: str
    process: asyncio.subprocess.Process
    log: Path
    data_dir: Path
    url: str | None = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@dataclass
class Deployment:
    database_url: str
    redis_url: str
    redis_prefix: str
    s3_env: dict[str, str]
    root: Path

    def env(self, name: str, **extra: str) -> dict[str, str]:
        data_dir = self.root / name
        return {
            **os.environ,
            "VIDPLAT_DATABASE_URL": self.database_url,
            "VIDPLAT_REDIS_URL": self.redis_url,
            "VIDPLAT_REDIS_PREFIX": self.redis_prefix,
            "VIDPLAT_DATA_DIR": str(data_dir),
            "VIDPLAT_MEDIA_DIR": str(data_dir / "media"),  # never used: media live in S3
            "VIDPLAT_JWT_SECRET": JWT_SECRET,
            "VIDPLAT_PLAYBACK_SECRET": PLAYBACK_SECRET,
            "VIDPLAT_ARGON2_TIME_COST": "1",
            "VIDPLAT_ARGON2_MEMORY_KIB": "1024",
            "VIDPLAT_ARGON2_PARALLELISM": "1",
            "VIDPLAT_LOG_LEVEL": "WARNING",
            **self.s3_env,
            **extra,
        }

    async def spawn(self, name: str, args: list[str], **extra: str) -> Host:
        data_dir = self.root / name
        data_dir.mkdir(parents=True)
        log = self.root / f"{name}.log"
        with log.open("wb") as output:
            process = await asyncio.create_subprocess_exec(
                *args, env=self.env(name, **extra), stdout=output, stderr=subprocess.STDOUT
            )
        return Host(name, process, log, data_dir)

    async def api(self, name: str, **extra: str) -> Host:
        port = _free_port()
        host = await self.spawn(name, [VIDPLAT, "serve", "--port", str(port)], **extra)
        host.url = f"http://127.0.0.1:{port}"

        async def ready() -> bool | None:
            assert host.process.returncode is None, f"{name} exited: {host.output()}"
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"{host.url}/ready", timeout=2)).status_code == 200 or None
            except httpx.HTTPError:
                return None

        await eventually(ready, within=60, what=lambda: f"{name} becoming ready ({host.output()})")
        return host


async def stop(host: Host) -> None:
    if host.process.returncode is None:
        host.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                await host.process.wait()
        except TimeoutError:
            host.process.kill()
            await host.process.wait()


@pytest.fixture
async def deployment(
    app_database: str, redis_service: tuple[str, str], s3_service: S3Service, tmp_path: Path
) -> Deployment:
    redis_url, prefix = redis_service
    return Deployment(app_database, redis_url, f"{prefix}-{uuid4().hex[:8]}", s3_service.env(), tmp_path)


@pytest.mark.timeout(300)
async def test_an_upload_through_one_api_is_processed_after_a_worker_dies_and_streamed_through_the_others(
    deployment: Deployment, s3_service: S3Service, tmp_path: Path
) -> None:
    prefix = deployment.s3_env["VIDPLAT_STORAGE_URL"].split("/", 3)[3]  # s3://bucket/<prefix>
    storage = s3_service.storage(tmp_path / "test-scratch", prefix=prefix)
    async with AsyncExitStack() as hosts, httpx.AsyncClient(timeout=30) as http:
        api1 = await deployment.api("api1")
        hosts.push_async_callback(stop, api1)
        api2 = await deployment.api("api2")
        hosts.push_async_callback(stop, api2)
        api3 = await deployment.api("api3", VIDPLAT_STREAM_DELIVERY="redirect")
        hosts.push_async_callback(stop, api3)
        doomed = await deployment.spawn("worker1", [sys.executable, "-c", _DOOMED_WORKER, AFTER_MOVING_THE_FILE])
        hosts.push_async_callback(stop, doomed)

        signup = await http.post(
            f"{api1.url}/api/v1/organizations",
            json={"name": "Multi Host", "admin_email": "admin@example.com", "admin_password": PASSWORD},
        )
        assert signup.status_code == 201, signup.text
        login = await http.post(
            f"{api2.url}/api/v1/auth/login",
            json={"organization": signup.json()["slug"], "email": "admin@example.com", "password": PASSWORD},
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
        data = make_mp4(tmp_path / "clip.mp4", seconds=1.0, width=64, height=48).read_bytes()
        uploaded = await http.post(
            f"{api1.url}/api/v1/videos", data={"title": "Across hosts"}, files={"file": ("c.mp4", data)}, headers=auth
        )
        assert uploaded.status_code == 202, uploaded.text
        video_id = uploaded.json()["id"]

        async def renditions_stored_by_the_doomed_worker() -> str | None:
            assert doomed.process.returncode is None, f"worker1 exited: {doomed.output()}"
            keys = [o.key async for o in storage.list("orgs/")]
            return next((key.partition(".hls/")[0] for key in keys if ".hls/" in key), None)

        final = await eventually(
            renditions_stored_by_the_doomed_worker, within=60, what=lambda: f"worker1's renditions ({doomed.output()})"
        )
        # SIGKILL mid-job: some or all renditions stored, the file perhaps moved, the row still processing.
        doomed.process.kill()
        await doomed.process.wait()
        worker2 = await deployment.spawn("worker2", [VIDPLAT, "worker"])
        hosts.push_async_callback(stop, worker2)

        async def ready_on_api2() -> dict[str, object] | None:
            assert worker2.process.returncode is None, f"worker2 exited: {worker2.output()}"
            video = (await http.get(f"{api2.url}/api/v1/videos/{video_id}", headers=auth)).json()
            assert video["status"] != "failed", video
            return video if video["status"] == "ready" else None

        await eventually(ready_on_api2, within=RETRY_WITHIN_SECONDS, every=0.5, what="the retried job")

        proxied = await http.get(f"{api2.url}/api/v1/videos/{video_id}/stream", headers=auth)
        assert (proxied.status_code, proxied.content) == (200, data)
        ranged = await http.get(f"{api2.url}/api/v1/videos/{video_id}/stream", headers={**auth, "Range": "bytes=10-19"})
        assert (ranged.status_code, ranged.content) == (206, data[10:20])
        redirected = await http.get(f"{api3.url}/api/v1/videos/{video_id}/stream", headers=auth)
        assert redirected.status_code == 307
        from_store = await http.get(redirected.headers["location"], headers={"Range": "bytes=10-19"})
        assert (from_store.status_code, from_store.content) == (206, data[10:20])
        points = (await http.get(f"{api1.url}/api/v1/users/me/points", headers=auth)).json()
        assert points["total"] == 10  # once, across three API processes and both ways of delivery

        keys = sorted([o.key async for o in storage.list("")])
        renditions = [key for key in keys if key.startswith(hls_prefix(final))]
        assert sorted(set(keys) - set(renditions)) == sorted([final, thumbnail_key(final)])  # no orphan
        assert hls_prefix(final) + "master.m3u8" in renditions  # the retry stored them whole
        for host in (api1, api2, api3, doomed, worker2):
            leftovers = [p for p in host.data_dir.rglob("*") if p.is_file() and p.suffix == ".part"]
            assert leftovers == [], f"{host.name} kept scratch copies"
            assert not (host.data_dir / "media").exists(), f"{host.name} wrote media to its own disk"
