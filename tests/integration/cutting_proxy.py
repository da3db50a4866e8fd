"""A loopback TCP proxy that cuts the connection after given numbers of client bytes: a client dying mid-request."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CuttingProxy:
    """Forwards 127.0.0.1:port to the upstream port; once the client has sent `cuts[0]` bytes in all, the
    connection carrying that byte is closed both ways, and so on for each cut."""

    def __init__(self, upstream: int, cuts: list[int]) -> None:
        self._upstream = upstream
        self._cuts = sorted(cuts)
        self._sent = 0
        self._lock = threading.Lock()
        self.cut = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []

    def _budget(self, wanted: int) -> int:
        """How many of `wanted` bytes may pass before the next cut (0: cut now)."""
        with self._lock:
            if not self._cuts:
                self._sent += wanted
                return wanted
            allowed = min(wanted, self._cuts[0] - self._sent)
            self._sent += allowed
            if self._sent >= self._cuts[0]:
                self._cuts.pop(0)
                self.cut += 1
                return -allowed - 1  # forward these, then cut
            return allowed

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(("127.0.0.1", self._upstream))
                for source, target, counted in ((client, upstream, True), (upstream, client, False)):
                    thread = threading.Thread(target=self._pump, args=(source, target, counted), daemon=True)
                    thread.start()
                    self._threads.append(thread)

    def _pump(self, source: socket.socket, target: socket.socket, counted: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                budget = self._budget(len(data)) if counted else len(data)
                if budget < 0:
                    target.sendall(data[: -budget - 1])
                    break
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    @contextmanager
    def running(self) -> Iterator[CuttingProxy]:
        acceptor = threading.Thread(target=self._serve, daemon=True)
        acceptor.start()
        try:
            yield self
        finally:
            self._listener.close()
            acceptor.join(5)
