"""What the browser checks share: headless Chromium driven over the DevTools protocol and an embedded
`vidplat serve` on loopback. Not part of CI: they need Debian's chromium."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.procs import free_port

HTTP_OK = 200
RESULTS = Path(__file__).parent / "results"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Offline but for loopback: every other host name fails to resolve.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--window-size=1280,1000",
]


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request the page made, as the network log saw it."""

    url: str
    headers: Mapping[str, str]
    status: int | None = None  # None while pending, or when it failed without an answer
    failure: str = ""  # why it failed; empty when it did not, or when the page itself canceled it
    canceled: bool = False  # the page gave up on it (a player aborting a load it no longer needs)


@dataclass(slots=True)
class Tab:
    socket: Any
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    exchanges: dict[str, Exchange] = field(default_factory=dict)  # by DevTools request id, in order
    errors: list[str] = field(default_factory=list)  # console errors, CSP refusals among them

    @property
    def requests(self) -> list[str]:
        return [e.url for e in self.exchanges.values()]

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            self._record(message.get("method"), message.get("params", {}))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

    def _record(self, event: str | None, params: dict[str, Any]) -> None:
        ident = params.get("requestId", "")
        if event == "Network.requestWillBeSent":
            request = params["request"]
            self.exchanges[ident] = Exchange(request["url"], request.get("headers", {}))
        elif event == "Network.responseReceived" and ident in self.exchanges:
            old = self.exchanges[ident]
            self.exchanges[ident] = Exchange(old.url, old.headers, params["response"]["status"])
        elif event == "Network.loadingFailed" and ident in self.exchanges:
            old = self.exchanges[ident]
            if params.get("canceled"):
                self.exchanges[ident] = Exchange(old.url, old.headers, old.status, canceled=True)
            else:
                self.exchanges[ident] = Exchange(old.url, old.headers, old.status, params.get("errorText", "failed"))
        elif event == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"][:200])

    async def evaluate(self, expression: str) -> Any:
        """The JSON value of a page expression (awaited when it is a promise); a thrown error raises."""
        answer = await self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in answer:
            thrown = answer["exceptionDetails"].get("exception", {}).get("description")
            raise RuntimeError(f"{expression[:80]}: {thrown}")
        return answer["result"].get("value")

    async def open(self, url: str) -> None:
        await self.call("Page.navigate", url=url)
        await self.settle()

    async def settle(self, seconds: float = 4) -> None:
        """Let the page load its assets and render (the events that arrive meanwhile are recorded)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.call("Runtime.evaluate", expression="document.readyState")
            await asyncio.sleep(0.2)

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))


def chromium_binary() -> str:
    found = shutil.which("chromium")
    if found is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    return found


@contextlib.asynccontextmanager
async def chromium_tab(*flags: str) -> AsyncIterator[Tab]:
    """A fresh headless Chromium (throwaway profile) and its first tab, with network and console logged."""
    port = free_port()
    profile = tempfile.mkdtemp(prefix="vidplat-chromium-")
    argv = [chromium_binary(), *CHROMIUM_FLAGS, *flags, f"--user-data-dir={profile}", f"--remote-debugging-port={port}"]
    browser = await asyncio.create_subprocess_exec(
        *argv, "about:blank", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        page = next(t for t in await _targets(port) if t["type"] == "page")
        async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
            tab = Tab(socket)
            for domain in ("Network", "Log", "Page"):
                await tab.call(f"{domain}.enable")
            yield tab
    finally:
        browser.terminate()
        await asyncio.wait_for(browser.wait(), 10)
        shutil.rmtree(profile, ignore_errors=True)


async def _targets(port: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                found: list[dict[str, Any]] = (await client.get(f"http://127.0.0.1:{port}/json")).json()
                return found
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise SystemExit("chromium did not open its DevTools port")


@contextlib.contextmanager
def embedded_server(data: Path, **settings: str) -> Iterator[int]:
    """`vidplat serve` in the embedded wiring on a free loopback port, with these VIDPLAT_* settings; the port."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")} | {"VIDPLAT_DATA_DIR": str(data)}
    env |= {f"VIDPLAT_{name.upper()}": value for name, value in settings.items()}
    server = subprocess.Popen([sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)], env=env)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/health").status_code == HTTP_OK:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(30)
