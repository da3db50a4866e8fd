"""Child processes the harness owns: each in its own process group, all stopped at the end."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import vidplat

STOP_GRACE_SECONDS = 10.0


def venv_script(name: str) -> str:
    """A console script of the interpreter running the bench (`uv run` put it in the project venv)."""
    return str(Path(sys.executable).parent / name)


def compile_bytecode() -> None:
    """Compile the venv's and vidplat's modules, as a deployment does at install time.

    The Docker image sets UV_COMPILE_BYTECODE=1 and pip compiles by default; uv's development
    sync does not, and where PYTHONDONTWRITEBYTECODE is set (the reference machines set it)
    every process the bench starts would compile every module it imports from source again
    (S8 measured here: 4.9 s that way, 1.4 to 1.7 s compiled). Up-to-date files are skipped,
    so only the first run pays, about 10 s.
    """
    package = Path(vidplat.__file__).parent
    paths = [sysconfig.get_paths()["purelib"], str(package)]
    # -qq: a third-party file written for another Python version fails quietly, as at install.
    subprocess.run([sys.executable, "-m", "compileall", "-qq", "-j", "0", *paths], check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class _Child:
    name: str
    proc: subprocess.Popen[bytes]
    grace: float  # seconds stop() waits after SIGTERM before SIGKILL


class Processes:
    """Starts commands in new sessions (so Ctrl-C reaches only the harness) and stops their whole groups."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self._running: list[_Child] = []

    @property
    def log_dir(self) -> Path:
        return self._log_dir

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, grace: float = STOP_GRACE_SECONDS
    ) -> subprocess.Popen[bytes]:
        """Start argv with its output in <log dir>/<name>.log."""
        log = (self._log_dir / f"{name}.log").open("ab")
        try:
            proc = subprocess.Popen(
                list(argv), env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        finally:
            log.close()  # the child holds its own descriptor
        self._running.append(_Child(name, proc, grace))
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM to the group, SIGKILL after its grace period; uvicorn's workers go with their supervisor."""
        child = next((c for c in self._running if c.proc is proc), None)
        self._running = [c for c in self._running if c.proc is not proc]
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(STOP_GRACE_SECONDS if child is None else child.grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
        # Children that outlived their leader (a worker mid-request) still carry the group id.
        _signal_group(proc, signal.SIGKILL)

    def stop_named(self, name: str) -> None:
        """Stop the process started under that name, if it is still running."""
        for child in [c for c in self._running if c.name == name]:
            self.stop(child.proc)

    def stop_all(self) -> None:
        """In reverse order of starting: what came last (nginx, the embedded runs) goes first."""
        for child in reversed(list(self._running)):
            self.stop(child.proc)

    def check_alive(self) -> None:
        """Fail fast with the log's tail when something the harness started has died."""
        for child in self._running:
            if child.proc.poll() is not None:
                raise RuntimeError(f"{child.name} exited with {child.proc.returncode}:\n{self.tail(child.name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self._log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # The child called setsid(), so its pid is its process group id; only that group is signalled.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from the parent links in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        # The command name (field 2) may contain spaces; fields after its closing parenthesis are fixed.
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def rss_kib(pid: int) -> int | None:
    """VmRSS of a live process, or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
