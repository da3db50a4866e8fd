"""`just docs-browser`: /docs and /docs/scalar in headless Chromium with every other host unreachable.

Starts an embedded `vidplat serve` on loopback, signs up an organization, then drives Chromium over
the DevTools protocol: both pages must render, Swagger UI's "Try it out" on GET /api/v1/users/me must
answer 200 with the bearer token put in through Authorize, and no request may leave 127.0.0.1.
Screenshots go to bench/results/. Not part of CI: it needs Debian's chromium.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import tempfile
from pathlib import Path

from bench.browser import RESULTS, chromium_tab, embedded_server
from bench.rawhttp import Api
from bench.seed import sign_up

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


async def _drive(port: int) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    _, token = await sign_up(Api(port), "Docs Check", secrets.token_urlsafe(12))
    async with chromium_tab() as tab:
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


def main() -> None:
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as data, embedded_server(Path(data)) as port:
        report = asyncio.run(_drive(port))
    print("\n".join([*report, f"screenshots in {RESULTS}/docs-*.png"]))


if __name__ == "__main__":
    main()
