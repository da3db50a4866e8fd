"""vidplat's production wiring on loopback: migrate, `serve --workers N`, `worker`."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from subprocess import PIPE, STDOUT

from bench.config import REDIS_URL, SERVE_WORKERS, SERVER_LOG_LEVEL
from bench.procs import Processes, free_port, venv_script
from bench.rawhttp import Connection
from bench.services import Throwaway
from vidplat.settings import Settings

OK = 200
WORKER_GRACE_SECONDS = 2.0


def clean_env(**settings: str) -> dict[str, str]:
    """The harness's environment minus any VIDPLAT_* of the developer's shell, plus the given settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")}
    env.update({f"VIDPLAT_{name.upper()}": value for name, value in settings.items()})
    return env


OFFLOAD_LOCATION = "/_media/"  # nginx's internal location for the media directory (nginx.conf.template)


@dataclass(frozen=True, slots=True)
class Stack:
    port: int
    serve_pid: int
    media_dir: Path
    settings: Settings  # what the server reads from the same environment
    env: dict[str, str]


async def start_stack(processes: Processes, run_dir: Path, state: Throwaway) -> Stack:
    media = run_dir / "media"
    env = clean_env(
        database_url=state.sqlalchemy_url,
        redis_url=REDIS_URL,
        redis_prefix=state.redis_prefix,
        jwt_secret=secrets.token_urlsafe(48),
        playback_secret=secrets.token_urlsafe(48),
        data_dir=str(run_dir / "data"),
        media_dir=str(media),
        log_level=SERVER_LOG_LEVEL,
        # Every bench client is 127.0.0.1: S6 logs in thousands of times from that one address.
        login_address_max_attempts="1000000000",
        signup_address_max_attempts="1000000000",
    )
    # The run directory is the working directory so that no developer .env is picked up.
    migrate = await asyncio.create_subprocess_exec(
        venv_script("vidplat"), "migrate", env=env, cwd=run_dir, stdout=PIPE, stderr=STDOUT
    )
    output, _ = await migrate.communicate()
    if migrate.returncode != 0:
        raise RuntimeError(f"vidplat migrate failed:\n{output.decode(errors='replace')}")
    port = free_port()
    serve_argv = [venv_script("vidplat"), "serve", "--port", str(port), "--workers", str(SERVE_WORKERS)]
    serve = processes.start("serve", serve_argv, env=env, cwd=run_dir)
    # An idle `vidplat worker` sits out SAQ's whole shutdown grace period (60 s) after SIGTERM; the
    # bench waits for every job it caused before stopping, so nothing is lost by cutting that short.
    processes.start("worker", [venv_script("vidplat"), "worker"], env=env, cwd=run_dir, grace=WORKER_GRACE_SECONDS)
    await wait_http(port, "/ready", processes=processes, within=60)
    return Stack(port=port, serve_pid=serve.pid, media_dir=media, settings=Settings.from_env(env), env=env)


async def start_offloading_api(processes: Processes, run_dir: Path, stack: Stack) -> int:
    """A second `vidplat serve` on the same state, handing stream bytes to nginx (X-Accel-Redirect)."""
    env = {**stack.env, "VIDPLAT_ACCEL_REDIRECT_PREFIX": OFFLOAD_LOCATION}
    port = free_port()
    argv = [venv_script("vidplat"), "serve", "--port", str(port), "--workers", str(SERVE_WORKERS)]
    processes.start("serve-offload", argv, env=env, cwd=run_dir)
    await wait_http(port, "/ready", processes=processes, within=60)
    return port


async def wait_http(
    port: int,
    path: str,
    *,
    processes: Processes | None = None,
    within: float = 30,
    step: float = 0.01,
    headers: Mapping[str, str] | None = None,
    method: str = "GET",
) -> float:
    """Poll until `method path` answers 200; returns the seconds it took. Fails early if a child died."""
    started = time.perf_counter()
    while True:
        conn = Connection("127.0.0.1", port)
        try:
            if (await conn.request(method, path, headers=headers)).status == OK:
                return time.perf_counter() - started
        except (OSError, asyncio.IncompleteReadError):
            pass  # not listening yet
        finally:
            await conn.close()
        if processes is not None:
            processes.check_alive()
        if time.perf_counter() - started > within:
            raise TimeoutError(f"127.0.0.1:{port}{path} did not answer 200 within {within:.0f} s")
        await asyncio.sleep(step)
