"""vidplat on S3 storage for S9 and S7-on-S3: SeaweedFS (`weed mini`), its own database and Redis prefix,
`serve` in proxy delivery and in redirect delivery, and a worker."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE, STDOUT
from uuid import UUID

from bench.config import REDIS_URL, SERVE_WORKERS, SERVER_LOG_LEVEL
from bench.procs import Processes, free_port, venv_script
from bench.rawhttp import Api
from bench.seed import sign_up
from bench.services import Throwaway, fetch
from bench.stack import clean_env, wait_http
from bench.uploads import upload_ready
from tests.s3 import S3Service
from tests.seaweed import wait_for_bucket, weed_mini
from vidplat.adapters.storage.s3 import S3Storage

PREFIX = "bench"


@dataclass(frozen=True, slots=True, kw_only=True)
class S3Stack:
    service: S3Service
    storage: S3Storage  # the harness's own client of the same bucket and prefix
    port: int  # proxy delivery
    redirect_port: int
    serve_pid: int
    token: str
    video_id: str
    big_key: str
    big_size: int
    env: dict[str, str]  # what `serve-s3` runs with, to restart it
    serve_argv: list[str]

    @property
    def stream_path(self) -> str:
        return f"/api/v1/videos/{self.video_id}/stream"


async def start_s3_stack(
    processes: Processes, run_dir: Path, state: Throwaway, big_video: Path, **settings: str
) -> S3Stack:
    """The stack with `big_video` uploaded and ready; `settings` are more VIDPLAT_* for every process."""
    args, service = weed_mini(run_dir / "weed")
    processes.start("weed", args, env=clean_env(), cwd=run_dir)

    def alive() -> bool:
        processes.check_alive()
        return True

    await asyncio.to_thread(wait_for_bucket, service, alive, processes.log_dir / "weed.log")
    await state.create()
    env = clean_env(
        database_url=state.sqlalchemy_url,
        redis_url=REDIS_URL,
        redis_prefix=state.redis_prefix,
        jwt_secret=secrets.token_urlsafe(48),
        playback_secret=secrets.token_urlsafe(48),
        data_dir=str(run_dir / "s3-data"),
        log_level=SERVER_LOG_LEVEL,
        **settings,
    ) | service.env(PREFIX)
    migrate = await asyncio.create_subprocess_exec(
        venv_script("vidplat"), "migrate", env=env, cwd=run_dir, stdout=PIPE, stderr=STDOUT
    )
    output, _ = await migrate.communicate()
    if migrate.returncode != 0:
        raise RuntimeError(f"vidplat migrate failed:\n{output.decode(errors='replace')}")
    port, redirect_port = free_port(), free_port()
    serve = [venv_script("vidplat"), "serve", "--workers", str(SERVE_WORKERS), "--port"]
    proc = processes.start("serve-s3", [*serve, str(port)], env=env, cwd=run_dir)
    processes.start("worker-s3", [venv_script("vidplat"), "worker"], env=env, cwd=run_dir, grace=2.0)
    redirect_env = {**env, "VIDPLAT_STREAM_DELIVERY": "redirect"}
    processes.start("serve-s3-redirect", [*serve, str(redirect_port)], env=redirect_env, cwd=run_dir)
    for p in (port, redirect_port):
        await wait_http(p, "/ready", processes=processes, within=60)

    api = Api(port)
    password = secrets.token_urlsafe(12)
    _, token = await sign_up(api, "Bench S3", password)
    video = await upload_ready(port, token, big_video, "big on S3")
    storage = service.storage(run_dir / "harness-scratch", PREFIX)
    # The stored original, not its thumbnail or renditions: the key the video's row names.
    [row] = await fetch(state.dsn, "SELECT storage_key FROM videos WHERE id = $1", UUID(video["id"]))
    big_key = row["storage_key"]
    size = (await storage.head(big_key)).size
    return S3Stack(
        service=service,
        storage=storage,
        port=port,
        redirect_port=redirect_port,
        serve_pid=proc.pid,
        token=token,
        video_id=video["id"],
        big_key=big_key,
        big_size=size,
        env=env,
        serve_argv=[*serve, str(port)],
    )
