"""`vidplat serve` as a real subprocess on a free loopback port, for clients that need a real socket."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.hardening.servers import free_port

START_TIMEOUT_SECONDS = 60.0


@contextmanager
def serve(data_dir: Path, env: Mapping[str, str]) -> Iterator[int]:
    """The server's port; the process is stopped on exit (its log is shown if it fails to start)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")} | {
        "VIDPLAT_DATA_DIR": str(data_dir),
        "VIDPLAT_LOG_LEVEL": "WARNING",
        **env,
    }
    log_path = data_dir / f"serve-{port}.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)],
            env=full_env,
            cwd=data_dir,
            stdout=log,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not _healthy(port):
                assert server.poll() is None, f"vidplat serve exited: {log_path.read_text(errors='replace')}"
                assert time.monotonic() < deadline, "vidplat serve did not answer /health in time"
                time.sleep(0.1)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


def _healthy(port: int) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
    return False


def sign_up(base: str) -> dict[str, str]:
    """A new organization's admin: the bearer header."""
    email, password = f"admin-{os.urandom(4).hex()}@example.com", "correct horse battery"
    org = httpx.post(
        f"{base}/api/v1/organizations",
        json={"name": f"Org {os.urandom(4).hex()}", "admin_email": email, "admin_password": password},
    )
    assert org.status_code == 201, org.text
    login = httpx.post(
        f"{base}/api/v1/auth/login", json={"organization": org.json()["slug"], "email": email, "password": password}
    )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}
