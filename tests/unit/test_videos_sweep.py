"""SweepStorage: crash leftovers and unreferenced video objects go once older than the TTL; nothing else."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.factories import Tenant, World, publish_video, upload
from vidplat.domain.ids import new_id
from vidplat.domain.videos.keys import hls_prefix, media_key, thumbnail_key, upload_key
from vidplat.domain.videos.sweep import SweepStorage

TTL = timedelta(hours=1)


def sweep(world: World) -> SweepStorage:
    return SweepStorage(world.uow, world.storage, world.clock, TTL)


async def test_an_upload_whose_row_never_committed_is_removed_once_older_than_the_ttl(
    world: World, acme: Tenant
) -> None:
    crashed = upload_key(acme.org.id, new_id(), new_id())  # staged, then the request died
    await world.storage.put_bytes(crashed, b"partial")
    world.clock.advance(minutes=59)
    fresh = upload_key(acme.org.id, new_id(), new_id())  # an upload still being recorded
    await world.storage.put_bytes(fresh, b"in flight")

    assert await sweep(world)() == 0  # not yet older than the TTL
    world.clock.advance(minutes=2)
    assert await sweep(world)() == 1

    assert set(world.storage.files) == {fresh}


async def test_a_ready_video_keeps_its_file_and_thumbnail_but_not_an_earlier_attempts_leftovers(
    world: World, acme: Tenant
) -> None:
    video = await publish_video(world, acme.admin.principal)
    assert video.storage_key is not None
    served = set(world.storage.files)
    assert {video.storage_key, thumbnail_key(video.storage_key)} < served  # and its renditions
    leftover = media_key(upload_key(acme.org.id, video.id, new_id()))  # moved, then the job crashed
    await world.storage.put_bytes(leftover, b"old attempt")
    await world.storage.put_bytes(thumbnail_key(leftover), b"jpeg")
    await world.storage.put_bytes(hls_prefix(leftover) + "master.m3u8", b"#EXTM3U")
    await world.storage.put_bytes(hls_prefix(leftover) + "240p/seg_00000.m4s", b"segment")
    world.clock.advance(hours=2)

    assert await sweep(world)() == 4

    assert set(world.storage.files) == served


async def test_a_pending_upload_waiting_longer_than_the_ttl_is_kept_before_and_after_its_move(
    world: World, acme: Tenant
) -> None:
    video = await upload(world, acme.admin.principal)
    assert video.pending_key is not None
    world.clock.advance(hours=3)  # the job queue was slow
    assert await sweep(world)() == 0
    await world.storage.move(video.pending_key, media_key(video.pending_key))
    renditions = hls_prefix(media_key(video.pending_key)) + "240p/seg_00000.m4s"  # stored before the publish
    await world.storage.put_bytes(renditions, b"segment")
    world.clock.advance(hours=3)
    assert await sweep(world)() == 0
    assert set(world.storage.files) == {media_key(video.pending_key), renditions}


async def test_the_objects_of_a_video_without_a_row_are_removed(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    stored = len(world.storage.files)
    assert stored > 2  # the file, its thumbnail and its renditions
    del world.store.videos[video.id]
    world.clock.advance(hours=2)

    assert await sweep(world)() == stored
    assert world.storage.files == {}


async def test_keys_of_other_shapes_are_not_the_sweeps_to_judge(world: World, acme: Tenant) -> None:
    others = [
        f"orgs/{acme.org.id}/tus/{new_id()}",
        "elsewhere/file",
        f"orgs/{acme.org.id}/videos/x/y",
        f"orgs/{acme.org.id}/videos/{new_id()}/{new_id()}.hlsx/master.m3u8",
    ]
    for key in others:
        await world.storage.put_bytes(key, b"x")
    world.clock.advance(days=2)

    assert await sweep(world)() == 0
    assert set(world.storage.files) == set(others)
