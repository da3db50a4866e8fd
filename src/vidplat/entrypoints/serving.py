"""Running uvicorn for `vidplat serve`: the port checked first, workers that start reliably and say why they died."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
from typing import Protocol

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

log = logging.getLogger("uvicorn.error")

APP = "vidplat.entrypoints.asgi:app_factory"
# uvicorn's default (5 s) killed workers still importing on a busy two-core machine, over and over.
WORKER_HEALTHCHECK_SECONDS = 60
# Imports a module and compiles to bytecode what it imported, skipping what is already compiled.
_COMPILE = (
    "import compileall, importlib, sys\n"
    "importlib.import_module(sys.argv[1])\n"
    "for m in list(sys.modules.values()):\n"
    "    f = getattr(m, '__file__', None)\n"
    "    if f and f.endswith('.py'): compileall.compile_file(f, quiet=2)\n"
)


def check_port(host: str, port: int) -> None:
    """Raise OSError now if the address cannot be listened on, before anything claims to serve it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        probe.bind((host, port))


def compile_app_imports(module: str = APP.partition(":")[0]) -> None:
    """Compile the app's imports once, before N workers each compile them at the same time (and time out)."""
    subprocess.run([sys.executable, "-c", _COMPILE, module], check=False, timeout=600)  # noqa: S603 (our interpreter)


def run(config: uvicorn.Config) -> None:
    """Serve with one process, or supervise `config.workers` of them."""
    if config.workers == 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            sys.exit(STARTUP_FAILURE)
        return
    compile_app_imports()
    Supervisor(config, sockets=[config.bind_socket()]).run()


class _Worker(Protocol):
    @property
    def exitcode(self) -> int | None: ...

    def ping(self, timeout: float = 5) -> bool: ...


def replacement_reason(worker: _Worker, alive: bool, timeout: float) -> str | None:
    """Why a worker must be replaced, or None while it is healthy."""
    if alive:
        return None if worker.ping(timeout) else f"did not answer the health check within {timeout:g} s"
    code = worker.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"exited with status {code} (see its log above)"


class Supervisor(Multiprocess):
    """uvicorn's worker supervisor, saying why it replaces a worker where uvicorn says only "died"."""

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            reason = replacement_reason(process, process.process.is_alive(), self.config.timeout_worker_healthcheck)
            if reason is None:
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                # The app cannot start at all: every replacement would fail the same way.
                log.error("worker [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            log.error("worker [%s] %s; starting another", process.pid, reason)
            replacement = Process(self.config, self.sockets)
            replacement.start()
            self.processes[idx] = replacement
