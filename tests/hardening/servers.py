"""Throwaway redis-server, PostgreSQL and nginx processes for fault and offload tests, on free loopback ports.

The shared services on 5432/6379 are never stopped: a fault test starts its own server,
breaks it, and the server is killed and its files removed afterwards, whatever happens.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from tests.services import unavailable

START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


def _wait_until(condition: Callable[[], bool], what: str, timeout: float = START_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:.0f}s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes] | None, sig: signal.Signals) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)


@dataclass
class RedisServer:
    """A redis-server child process without persistence; stop() and start() keep its port."""

    binary: str
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [*command, "--dir", str(self.directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _wait_until(lambda: _answers(self.port), f"redis-server did not listen on {self.port}")

    def kill(self) -> None:
        """Die at once, as a crashed server would: connections are refused."""
        _stop(self.process, signal.SIGKILL)
        _wait_until(lambda: not _answers(self.port), "redis-server did not release its port")

    def freeze(self) -> None:
        """Stop answering while keeping every connection open, as a hung host or a partition looks."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server", "the binary is not on PATH (apt-get install redis-server)")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    with tempfile.TemporaryDirectory(prefix="vidplat-redis-") as directory:
        server = RedisServer(binary, Path(directory))
        try:
            server.start()
            yield server
        finally:
            _stop(server.process, signal.SIGKILL)


def _postgres_bin() -> Path | None:
    configured = os.environ.get("VIDPLAT_TEST_PG_BIN")
    candidates = [Path(configured)] if configured else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    return next((c for c in candidates if (c / "initdb").is_file() and (c / "postgres").is_file()), None)


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in a temporary directory, run by the `postgres` OS user when we are root."""

    bin_dir: Path
    data_dir: Path
    user: str | None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        subprocess.run(  # noqa: S603 - a fixed argument list
            [
                str(self.bin_dir / "initdb"),
                *("-D", str(self.data_dir), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"),
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=self.user,
            timeout=60,
        )

    def start(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.data_dir),
            "fsync": "off",
            "full_page_writes": "off",
            "synchronous_commit": "off",
            "max_connections": "60",
        }
        options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
        self.process = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [str(self.bin_dir / "postgres"), "-D", str(self.data_dir), *options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
        )
        _wait_until(self._accepts_connections, f"PostgreSQL did not accept connections on {self.port}")

    def stop(self) -> None:
        """Fast shutdown (SIGINT): sessions are terminated, in-flight transactions roll back."""
        _stop(self.process, signal.SIGINT)

    def _accepts_connections(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {self.process.returncode}")
        ready = subprocess.run(  # noqa: S603 - a fixed argument list
            [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], check=False
        )
        return ready.returncode == 0


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _postgres_bin()
    if bin_dir is None:
        unavailable("PostgreSQL binaries", "no initdb/postgres found (set VIDPLAT_TEST_PG_BIN)")
        raise AssertionError("unreachable")
    user = "postgres" if os.geteuid() == 0 else None  # initdb refuses to run as root
    root = Path(tempfile.mkdtemp(prefix="vidplat-pg-"))
    try:
        if user is not None:
            shutil.chown(root, user)
        server = PostgresServer(bin_dir, root / "data", user)
        server.init()
        server.start()
        try:
            yield server
        finally:
            _stop(server.process, signal.SIGQUIT)  # immediate shutdown: the postmaster also ends its backends
    finally:
        shutil.rmtree(root, ignore_errors=True)


# nginx in front of an offloading vidplat, as deploy/nginx.conf puts it (the bench has its own copy).
_NGINX_CONF = """
${user}
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path ${prefix}/body;
    proxy_temp_path ${prefix}/proxy;
    fastcgi_temp_path ${prefix}/fastcgi;
    uwsgi_temp_path ${prefix}/uwsgi;
    scgi_temp_path ${prefix}/scgi;
    server {
        listen 127.0.0.1:${port};
        location / {
            proxy_pass http://127.0.0.1:${upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location ${location} {
            internal;
            alias ${root}/;
            etag off;
            add_header ETag $$upstream_http_etag;
            add_header Last-Modified $$upstream_http_last_modified;
            add_header X-Sent-By-Nginx 1;  # for the tests only: which answers nginx sent itself
        }
    }
}
"""


@dataclass
class NginxServer:
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def nginx_server(*, upstream: int, root: Path, location: str) -> Iterator[NginxServer]:
    """nginx proxying to vidplat on `upstream`, serving X-Accel-Redirect `location` from `root`."""
    binary = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}{os.pathsep}/usr/sbin")
    if binary is None:
        unavailable("nginx", "the binary is not installed (apt-get install nginx-light)")
        raise AssertionError("unreachable")  # unavailable() skips or fails
    with tempfile.TemporaryDirectory(prefix="vidplat-nginx-") as directory:
        prefix, port = Path(directory), free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(
            Template(_NGINX_CONF).substitute(
                # As root its workers would drop to `nobody`, who cannot enter the test's directories.
                user="user root;" if os.geteuid() == 0 else "",
                prefix=prefix,
                port=port,
                upstream=upstream,
                location=location,
                root=root,
            )
        )
        command = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        try:
            _wait_until(lambda: _answers(port) or process.poll() is not None, f"nginx did not listen on {port}")
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(prefix / 'error.log').read_text()}")
            yield NginxServer(port, process)
        finally:
            _stop(process, signal.SIGQUIT)


@contextlib.contextmanager
def vidplat_serve(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[int]:
    """A real `vidplat serve` process (embedded unless env says otherwise) on a free loopback port."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")} | {
        "VIDPLAT_DATA_DIR": str(data_dir),
        "VIDPLAT_LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    log_path = data_dir / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 - a fixed argument list
            [sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)],
            env=environment,
            cwd=data_dir,
            stdout=log,
            stderr=log,
        )
    try:

        def started() -> bool:
            if server.poll() is not None:
                raise RuntimeError(f"vidplat serve exited: {log_path.read_text(errors='replace')}")
            return _answers(port)

        _wait_until(started, f"vidplat serve did not listen on {port}", timeout=60)
        yield port
    finally:
        _stop(server, signal.SIGTERM)
