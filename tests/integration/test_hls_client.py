"""A real HLS client: FFmpeg's HLS demuxer (through PyAV) plays the signed `hls_url` over real HTTP.

No headers: only the token the playback grant put in the URL and the one the playlists carried
on. Every rendition is read to its end, and the view is credited exactly once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import av
import httpx

from tests.api.conftest import CHEAP_ARGON2
from tests.hls import give_renditions
from tests.media import make_mp4
from tests.uvicorn_server import uvicorn_serving
from vidplat.adapters.sql.migrate import run_migrations_async
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.settings import Settings

SECONDS, FPS = 3, 10
PASSWORD = "correct horse battery"
POLLS = 600  # x 0.05 s: a bound a healthy machine never reaches


def play_every_rendition(url: str) -> dict[tuple[int, str], tuple[int, float]]:
    """Demux all variants of the master playlist to the end: {(variant bitrate, kind): (packets, end seconds)}."""
    found: dict[tuple[int, str], tuple[int, float]] = {}
    with av.open(url, timeout=30) as container:
        for packet in container.demux():
            if packet.pts is None or packet.time_base is None:
                continue  # the flush packet at each stream's end
            stream = packet.stream
            key = (int(stream.metadata.get("variant_bitrate", -1)), stream.type)
            count, end = found.get(key, (0, 0.0))
            found[key] = (count + 1, max(end, float((packet.pts + (packet.duration or 0)) * packet.time_base)))
    return found


async def test_ffmpeg_plays_every_rendition_of_the_signed_hls_url_to_the_end_and_the_view_is_credited_once(
    tmp_path: Path,
) -> None:
    settings = Settings.from_env({**CHEAP_ARGON2, "VIDPLAT_DATA_DIR": str(tmp_path / "data")})
    await run_migrations_async(settings.database_url)
    container = bootstrap(settings)
    source = make_mp4(tmp_path / "clip.mp4", seconds=SECONDS, width=128, height=96, fps=FPS, audio=True)
    async with uvicorn_serving(create_app(container)) as port:
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            auth = await _admin(client)
            upload = await client.post(
                "/api/v1/videos", data={"title": "Clip"}, files={"file": ("c.mp4", source.read_bytes())}, headers=auth
            )
            video_id = upload.json()["id"]
            await _until_ready(client, video_id, auth)
            video = await give_renditions(container.use_cases.get_video.uow, container.storage, UUID(video_id))
            grant = (await client.post(f"/api/v1/videos/{video_id}/playback", headers=auth)).json()

            played = await asyncio.to_thread(play_every_rendition, base + grant["hls_url"])

            await container.use_cases.background.settled()
            points = (await client.get("/api/v1/users/me/points", headers=auth)).json()

    assert len(video.renditions) == 2
    assert sorted(played) == sorted((r.bandwidth, kind) for r in video.renditions for kind in ("audio", "video"))
    for (_, kind), (packets, end) in played.items():
        if kind == "video":
            assert packets == SECONDS * FPS
        assert end >= SECONDS - 0.1, (kind, end)
    assert points["total"] == 10
    assert [item["video_id"] for item in points["items"]] == [video_id]


async def _admin(client: httpx.AsyncClient) -> dict[str, str]:
    email = "admin@example.com"
    org = await client.post(
        "/api/v1/organizations", json={"name": "Watchers", "admin_email": email, "admin_password": PASSWORD}
    )
    login = await client.post(
        "/api/v1/auth/login", json={"organization": org.json()["slug"], "email": email, "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _until_ready(client: httpx.AsyncClient, video_id: str, auth: dict[str, str]) -> None:
    for _ in range(POLLS):
        if (await client.get(f"/api/v1/videos/{video_id}", headers=auth)).json()["status"] == "ready":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the video never became ready")
