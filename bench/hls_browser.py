"""`just hls-browser`: a real upload played by hls.js in headless Chromium, with no headers, past the playback TTL.

Starts an embedded `vidplat serve` (playback TTL 5 s, CORS open to the page's origin only), uploads a
VP9/Opus WebM (generated, cached), waits until it is ready, asks for playback and hands the page
(served by this check on another loopback port, hls.js pinned and vendored at run time) nothing but
the URLs of the playback response. Checks: it plays, it switches level on demand, it seeks into a
level it never loaded after a pause longer than the TTL, the storyboard track and a sprite tile load,
the thumbnail loads, and the network log holds no 4xx/5xx, no failed request, no Authorization header.
`python -m bench.hls_browser s3` does the same on the production wiring (PostgreSQL, Redis, `serve` and
`worker`, SeaweedFS as the S3 store); `embedded s3` runs both. Not part of CI: it needs Debian's
chromium, and npm for hls.js.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import media
from bench.browser import RESULTS, Tab, chromium_tab, embedded_server
from bench.hls_player import page_server, site
from bench.procs import Processes, free_port
from bench.rawhttp import Api
from bench.s3stack import start_s3_stack
from bench.seed import sign_up
from bench.services import Throwaway
from bench.uploads import upload_ready

TTL_SECONDS = 5
SEEK_TO = 14.0  # seconds into the 20 s source: fragments never loaded before the pause
AUTOPLAY = "--autoplay-policy=no-user-gesture-required"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def playback(base: str, token: str, video_id: str) -> dict[str, str]:
    """The playback response, plus the storyboard track's URL (the same token, as API.md allows)."""
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {token}"}) as client:
        answer: dict[str, str] = client.post(f"/api/v1/videos/{video_id}/playback").raise_for_status().json()
    answer["vtt"] = answer["hls_url"].replace("/hls/master.m3u8", "/storyboard.vtt")
    return answer


async def until(tab: Tab, condition: str, within: float) -> bool:
    """Poll a page expression until it is truthy; False when `within` seconds pass first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await tab.evaluate(condition):
            return True
        await asyncio.sleep(0.25)
    return False


async def drive(tab: Tab, page: str, api: str, urls: dict[str, str]) -> list[Check]:
    """Open the page on the playback URLs and run the checks in order (later ones need the earlier ones)."""
    started = time.monotonic()  # the playback response was just made: its token's TTL runs from about now
    query = httpx.QueryParams(src=api + urls["hls_url"], thumb=api + urls["thumbnail_url"], vtt=api + urls["vtt"])
    await tab.open(f"{page}/?{query}")
    checks = []
    ok = await until(tab, "check.levels.length > 0 && video.currentTime > 2", 60)
    state = await tab.evaluate("check")
    levels = state["levels"]
    heights = "/".join(f"{level['height']}p" for level in levels)
    checks.append(
        Check(
            "plays",
            ok,
            f"hls.js {state['hlsVersion']}, {len(levels)} levels {heights}, "
            f"currentTime {await tab.evaluate('video.currentTime'):.1f} s",
        )
    )
    if not ok or len(levels) < 3:  # noqa: PLR2004 - the 480p source has three rungs
        checks.append(Check("levels", False, f"expected 3 levels from a 480p source, got {heights or 'none'}"))
        return checks
    top, middle = len(levels) - 1, len(levels) // 2
    await tab.evaluate(f"hls.currentLevel = {top}")
    ok = await until(tab, f"check.switched.includes({top}) && check.frags.some(f => f.level === {top})", 30)
    checks.append(
        Check(
            "switches level",
            ok,
            f"forced level {top} ({levels[top]['height']}p): "
            f"switched {await tab.evaluate('check.switched')}, its fragments {'' if ok else 'not '}loaded",
        )
    )
    loaded_before = await tab.evaluate("check.playlists")
    await tab.evaluate("video.pause()")
    paused = time.monotonic()
    await asyncio.sleep(TTL_SECONDS + 3)
    seek = (
        f"hls.currentLevel = {middle}; video.currentTime = {SEEK_TO}; video.play().catch(e => "
        "check.errors.push({type: 'play', details: String(e)}))"
    )
    await tab.evaluate(seek)
    ok = await until(
        tab,
        f"check.frags.some(f => f.level === {middle} && f.start >= {SEEK_TO - 2}) && video.currentTime > {SEEK_TO + 1}",
        30,
    )
    new_playlist = await tab.evaluate(f"check.playlists.includes({middle})")
    now = await tab.evaluate("video.currentTime")
    checks.append(
        Check(
            "seeks after the TTL",
            ok and new_playlist and middle not in loaded_before,
            f"paused {time.monotonic() - paused:.0f} s, {time.monotonic() - started:.0f} s after playback "
            f"(TTL {TTL_SECONDS} s); seek to {SEEK_TO:.0f} s on level {middle} ({levels[middle]['height']}p), "
            f"never loaded before: playlist and fragments loaded, playing at {now:.1f} s",
        )
    )
    state = await tab.evaluate("check")
    preview = await tab.evaluate(f"preview({SEEK_TO})")
    track = state["track"] or {}
    checks.append(
        Check(
            "storyboard",
            bool(track.get("cues")) and preview.get("inside", False),
            f"track: {track}; tile at {SEEK_TO:.0f} s after the TTL: {preview}",
        )
    )
    thumbnail = state["thumbnail"] or {}
    checks.append(Check("thumbnail", thumbnail.get("width", 0) > 0, f"<img src=thumbnail_url>: {thumbnail}"))
    checks.append(Check("no error event", not state["errors"], f"hls.js/media errors: {state['errors'] or 'none'}"))
    checks.append(_network(tab, api))
    return checks


def _network(tab: Tab, api: str) -> Check:
    """Every request to vidplat answered 2xx, carried its token in the URL and no Authorization header."""
    ours = [e for e in tab.exchanges.values() if e.url.startswith(api)]
    canceled = sum(e.canceled for e in ours)
    bad = [
        f"{e.status or e.failure} {e.url.split('?')[0]}"
        for e in ours
        if (e.status is not None and e.status not in {200, 206}) or e.failure
    ]
    headers = [e.url for e in ours if any(name.lower() == "authorization" for name in e.headers)]
    untokened = [e.url for e in ours if "token=" not in e.url]
    kinds: dict[str, int] = {}
    for exchange in ours:
        name = exchange.url.split("?")[0].rsplit("/", 1)[-1]
        kind = name if "." not in name or name.endswith(".m3u8") else name.rsplit(".", 1)[-1]
        kinds[kind] = kinds.get(kind, 0) + 1
    outside = [u for u in tab.requests if not u.startswith(("http://127.0.0.1", "data:", "blob:"))]
    passed = bool(ours) and not (bad or headers or untokened or outside or tab.errors)
    detail = (
        f"{len(ours)} requests to vidplat {kinds}, {canceled} canceled by the player; not 200/206: {bad or 'none'}; "
        f"with Authorization: {len(headers)}; without token=: {untokened or 'none'}; "
        f"off loopback: {outside or 'none'}; console errors: {tab.errors or 'none'}"
    )
    return Check("network log", passed, detail)


@dataclass(frozen=True, slots=True)
class Served:
    api: str  # vidplat's base URL
    token: str  # an admin's bearer token, for the harness's own calls
    video_id: str  # the ready upload


@contextlib.asynccontextmanager
async def embedded(scratch: Path, settings: dict[str, str]) -> AsyncIterator[Served]:
    """`vidplat serve` alone: SQLite, in-process jobs, local files."""
    with embedded_server(scratch / "data", **settings) as port:
        _, token = await sign_up(Api(port), "HLS Check", secrets.token_urlsafe(12))
        video = await upload_ready(port, token, media.vp9_clip(), "HLS check")
        yield Served(f"http://127.0.0.1:{port}", token, video["id"])


@contextlib.asynccontextmanager
async def production(scratch: Path, settings: dict[str, str]) -> AsyncIterator[Served]:
    """PostgreSQL, Redis, `serve` and `worker`, SeaweedFS as the S3 store (the bench's S9 stack)."""
    processes, state = Processes(scratch), Throwaway.new()
    try:
        stack = await start_s3_stack(processes, scratch, state, media.vp9_clip(), **settings)
        yield Served(f"http://127.0.0.1:{stack.port}", stack.token, stack.video_id)
    finally:
        processes.stop_all()
        await state.drop()


WIRINGS = {"embedded": embedded, "s3": production}


def main(argv: list[str]) -> None:
    wirings = argv or ["embedded"]
    if not set(wirings) <= WIRINGS.keys():
        sys.exit(f"usage: python -m bench.hls_browser [{' | '.join(WIRINGS)}] ...")
    RESULTS.mkdir(exist_ok=True)
    passed = True
    for wiring in wirings:
        checks = asyncio.run(_check(wiring))
        print(f"{wiring}:", *(check.line() for check in checks), sep="\n  ")
        passed = passed and all(check.passed for check in checks)
    print(f"screenshots in {RESULTS}/hls-browser-*.png")
    if not passed:
        sys.exit("hls-browser: FAILED")
    print("hls-browser: all checks passed")


async def _check(wiring: str) -> list[Check]:
    page_port = free_port()
    settings = {"playback_url_ttl_seconds": str(TTL_SECONDS), "cors_origins": f"http://127.0.0.1:{page_port}"}
    with tempfile.TemporaryDirectory(prefix="vidplat-hls-browser-") as scratch:
        started = time.monotonic()
        async with WIRINGS[wiring](Path(scratch), settings) as served:
            print(f"{wiring}: upload ready in {time.monotonic() - started:.0f} s", flush=True)
            with page_server(site(Path(scratch) / "site"), page_port) as page:
                async with chromium_tab(AUTOPLAY) as tab:
                    # Asked for only once the browser is up: the TTL then covers just opening the page.
                    urls = await asyncio.to_thread(playback, served.api, served.token, served.video_id)
                    checks = await drive(tab, page, served.api, urls)
                    await tab.screenshot(RESULTS / f"hls-browser-{wiring}.png")
                    if not all(check.passed for check in checks):
                        print("hls.js log, last lines:", *(await tab.evaluate("hlsLog"))[-40:], sep="\n")
                    return checks


if __name__ == "__main__":
    main(sys.argv[1:])
