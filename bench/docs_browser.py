"""`just docs-browser`: /docs and /docs/scalar in headless Chromium with every other host unreachable.

Starts an embedded `vidplat serve` on loopback, signs up an organization, then drives Chromium over
the DevTools protocol: both pages must render, Swagger UI's "Try it out" on GET /api/v1/users/me must
answer 200 with the bearer token put in through Authorize, and no request may leave 127.0.0.1.
Screenshots go to bench/results/. Not part of CI: it needs Debian's chromium.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
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
# Swagger UI: authorize with the token, open GET /users/me, Try it out, Execute; read the status shown.
TRY_IT_OUT = """
(async () => {
  const wait = async (find) => { for (let i = 0; i < 100; i++) { const el = find(); if (el) return el;
    await new Promise(r => setTimeout(r, 100)); } throw new Error("not found: " + find); };
  window.ui.preauthorizeApiKey("BearerToken", TOKEN);
  const block = await wait(() => document.querySelector("#operations-me-ApiV1UsersMeMe"));
  block.querySelector(".opblock-summary-control").click();
  (await wait(() => block.querySelector(".try-out__btn"))).click();
  (await wait(() => block.querySelector(".execute"))).click();
  const status = await wait(() => block.querySelector(".live-responses-table .response .response-col_status"));
  block.scrollIntoView();
  return status.textContent.trim();
})()
"""


class Tab:
    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.ids = itertools.count(1)
        self.requests: list[str] = []
        self.errors: list[str] = []  # console errors, CSP refusals among them

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), 30))
            if message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])
            if message.get("method") == "Log.entryAdded" and message["params"]["entry"]["level"] == "error":
                self.errors.append(message["params"]["entry"]["text"][:200])
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message["result"]
                return result

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


def check(base: str, token: str, chromium: str) -> list[str]:
    port = free_port()
    profile = tempfile.mkdtemp(prefix="vidplat-chromium-")
    browser = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--remote-debugging-port={port}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        return asyncio.run(_drive(port, base, token))
    finally:
        browser.terminate()
        browser.wait(10)
        shutil.rmtree(profile, ignore_errors=True)


async def _drive(port: int, base: str, token: str) -> list[str]:
    targets = await _targets(port)
    page = next(t for t in targets if t["type"] == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
        tab = Tab(socket)
        await tab.call("Network.enable")
        await tab.call("Log.enable")
        await tab.call("Page.enable")
        report = []
        for path, name in (("/docs/scalar", "docs-scalar"), ("/docs", "docs-swagger")):
            await tab.open(base + path)
            title = await tab.call("Runtime.evaluate", expression="document.body.innerText.slice(0, 60)")
            report.append(f"{path}: renders {title['result']['value']!r}")
            await tab.screenshot(RESULTS / f"{name}.png")
        status = await tab.call(
            "Runtime.evaluate", expression=TRY_IT_OUT.replace("TOKEN", json.dumps(token)), awaitPromise=True
        )
        await tab.settle(1)
        await tab.screenshot(RESULTS / "docs-try-it-out.png")
        report.append(f"Try it out GET /api/v1/users/me with the bearer token: {status['result'].get('value')}")
        outside = sorted({u for u in tab.requests if not u.startswith((base, "data:", "blob:"))})
        report.append(f"requests: {len(tab.requests)}, outside {base}: {outside or 'none'}")
        report.append(f"console errors: {tab.errors or 'none'}")
        if status["result"].get("value") != "200" or outside or tab.errors:
            raise SystemExit("\n".join([*report, "FAILED"]))
        return report


async def _targets(port: int) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                found: list[dict[str, Any]] = (await client.get(f"http://127.0.0.1:{port}/json")).json()
                return found
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
    raise SystemExit("chromium did not open its DevTools port")


def _sign_up(base: str) -> str:
    body = {"name": "Docs Check", "admin_email": "admin@example.com", "admin_password": "correct horse battery"}
    with httpx.Client(base_url=base, timeout=30) as client:
        slug = client.post("/api/v1/organizations", json=body).raise_for_status().json()["slug"]
        login = {"organization": slug, "email": body["admin_email"], "password": body["admin_password"]}
        token: str = client.post("/api/v1/auth/login", json=login).raise_for_status().json()["access_token"]
        return token


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: apt-get install -y chromium")
    RESULTS.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIDPLAT_")} | {"VIDPLAT_DATA_DIR": data}
        server = subprocess.Popen(
            [sys.executable, "-m", "vidplat.entrypoints.cli", "serve", "--port", str(port)], env=env
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{base}/health").status_code == HTTP_OK:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            report = check(base, _sign_up(base), chromium)
        finally:
            server.terminate()
            server.wait(30)
    print("\n".join([*report, f"screenshots in {RESULTS}/docs-*.png"]))


if __name__ == "__main__":
    main()
