"""Processing makes HLS renditions: stored under the file's hls prefix, swapped at publish, never left orphaned."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID

from tests.api.helpers import MAX_POLLS, POLL_INTERVAL_SECONDS, Account, Api, Json
from tests.media import truncate
from vidplat.domain.ids import new_id
from vidplat.domain.videos.keys import hls_prefix, media_key, upload_key

ALSO_ON_S3 = True  # these tests also run on the production wiring with S3 storage
RENDITION_FILES = ("index.m3u8", "init.mp4", "seg_00000.m4s")


async def hls_keys(api: Api) -> dict[str, set[str]]:
    """Every stored object under an hls prefix, by prefix, relative to it."""
    found: dict[str, set[str]] = {}
    for key in await api.stored_keys():
        if ".hls/" in key:
            media, _, rest = key.partition(".hls/")
            found.setdefault(hls_prefix(media), set()).add(rest)
    return found


async def read(api: Api, key: str) -> bytes:
    async def whole() -> bytes:
        size = (await api.storage.head(key)).size
        return b"".join([chunk async for chunk in api.storage.read(key, 0, size)])

    return await api.run(whole)


async def ready_clip(api: Api, admin: Account) -> Json:
    return await api.upload_ready(admin, api.mp4(seconds=2.0, width=320, height=240))


async def test_an_upload_becomes_ready_with_renditions_stored_under_its_hls_prefix(api: Api) -> None:
    admin = await api.signup()
    accepted = (await api.upload(admin, api.mp4(seconds=2.0, width=320, height=240))).json()
    assert (accepted["progress"], accepted["renditions"]) == (0, [])

    video = await api.wait_ready(admin, accepted["id"])

    assert video["status"] == "ready", video
    assert video["progress"] == 100
    assert video["renditions"] == [{"name": "240p", "width": 320, "height": 240, "bandwidth": 528_000}]
    [(prefix, files)] = (await hls_keys(api)).items()
    assert {"master.m3u8", "storyboard.jpg", "storyboard.vtt"} | {f"240p/{f}" for f in RENDITION_FILES} <= files
    assert prefix.removesuffix(".hls/") in await api.stored_keys()  # next to the file it was made from
    master = (await read(api, prefix + "master.m3u8")).decode()
    assert "RESOLUTION=320x240" in master
    assert "240p/index.m3u8" in master


async def test_a_replacement_keeps_the_old_renditions_until_it_publishes_then_removes_them(api: Api) -> None:
    admin = await api.signup()
    video = await ready_clip(api, admin)
    [old] = await hls_keys(api)
    new = api.mp4(seconds=2.0, width=480, height=360)

    async with api.processing_held() as held:
        response = await api.client.patch(
            f"/api/v1/videos/{video['id']}", files={"file": ("new.mp4", new, "video/mp4")}, headers=admin.auth
        )
        during = (await api.client.get(f"/api/v1/videos/{video['id']}", headers=admin.auth)).json()
        stored_during = await hls_keys(api)

    assert response.status_code == 202, response.text
    if held:  # the embedded runner cannot be held: there the new file may already be published
        assert (during["progress"], [r["name"] for r in during["renditions"]]) == (100, ["240p"])
        assert list(stored_during) == [old]
    done = await api.wait_ready(admin, video["id"])
    assert [r["name"] for r in done["renditions"]] == ["240p", "360p"]
    assert done["progress"] == 100
    # The job deletes the old renditions right after its publish commits, a moment after `ready` shows.
    current = await hls_keys(api)
    for _ in range(MAX_POLLS):
        if old not in current:
            break
        await asyncio.sleep(POLL_INTERVAL_SECONDS)
        current = await hls_keys(api)
    assert len(current) == 1
    assert old not in current


async def test_a_failed_upload_leaves_no_objects(api: Api) -> None:
    admin = await api.signup()
    path = api.scratch_dir / "cut.mp4"
    path.write_bytes(api.mp4(seconds=2.0, width=128, height=96))

    accepted = (await api.upload(admin, truncate(path, 700).read_bytes())).json()

    failed = await api.wait_ready(admin, accepted["id"])
    assert (failed["status"], failed["progress"], failed["renditions"]) == ("failed", None, [])
    assert failed["failure_reason"]
    assert await api.stored_keys() == []


async def test_the_storage_sweep_removes_an_orphaned_hls_prefix_and_keeps_the_served_one(api: Api) -> None:
    admin = await api.signup()
    video = await ready_clip(api, admin)
    [served] = await hls_keys(api)
    # What a worker killed after storing its renditions, before publishing them, leaves behind.
    orphan = hls_prefix(media_key(upload_key(UUID(admin.org_id), UUID(str(video["id"])), new_id())))
    await api.run(lambda: api.storage.put_bytes(orphan + "240p/seg_00000.m4s", b"segment"))
    await api.run(lambda: api.storage.put_bytes(orphan + "master.m3u8", b"#EXTM3U"))
    api.clock.advance(timedelta(hours=2))  # past the staging TTL

    removed = await api.run(api.container.use_cases.sweep_storage)

    assert removed == 2
    assert list(await hls_keys(api)) == [served]
