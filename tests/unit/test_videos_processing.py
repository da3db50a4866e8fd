"""ProcessUpload and FailStuckUploads: publish or fail every upload, safely re-runnable."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from tests.unit.factories import Tenant, World, mp4_bytes, publish_video, run_jobs, stream, upload
from tests.unit.fakes import DEFAULT_MEDIA, UNREADABLE, UNTRANSCODABLE, FakeMediaProbe, fake_hls_keys
from vidplat.domain.videos.keys import hls_prefix, media_key, thumbnail_key
from vidplat.domain.videos.model import MediaInfo, Video, VideoStatus
from vidplat.domain.videos.processing import FailStuckUploads, RequeuePendingUploads
from vidplat.domain.videos.renditions import select_renditions
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile


def published_files(upload_key: str) -> set[str]:
    """What a processed upload leaves in storage: its file, thumbnail and renditions."""
    final = media_key(upload_key)
    renditions = select_renditions(DEFAULT_MEDIA.width, DEFAULT_MEDIA.height)
    return {final, thumbnail_key(final)} | fake_hls_keys(hls_prefix(final), renditions)


async def staged(world: World, tenant: Tenant, data: bytes | None = None) -> tuple[Video, str]:
    video = await upload(world, tenant.admin.principal, data=data)
    assert video.pending_key is not None
    return video, video.pending_key


async def replace_file(world: World, tenant: Tenant, video: Video, data: bytes) -> str:
    cmd = ReplaceCommand(title=None, description=None, chunks=stream(data))
    replaced = await ReplaceVideoFile(world.uow, world.uploads(), world.clock)(tenant.admin.principal, video.id, cmd)
    assert replaced.pending_key is not None
    return replaced.pending_key


async def test_processing_publishes_the_video_with_its_media_facts(world: World, acme: Tenant) -> None:
    data = mp4_bytes(6000)
    video, key = await staged(world, acme, data)
    world.clock.advance(seconds=30)

    await world.process()(video.id, key)

    final = media_key(key)
    stored = world.store.videos[video.id]
    assert (stored.status, stored.failure_reason, stored.pending_key) == (VideoStatus.READY, None, None)
    assert (stored.storage_key, stored.thumbnail_key) == (final, thumbnail_key(final))
    assert (stored.duration_seconds, stored.width, stored.height) == (12.5, 1280, 720)
    assert (stored.video_codec, stored.audio_codec, stored.content_type) == ("h264", "aac", "video/mp4")
    assert (stored.size_bytes, stored.checksum) == (6000, hashlib.sha256(data).hexdigest())
    assert stored.updated_at == world.clock.now()
    assert set(world.storage.files) == published_files(key)
    assert world.storage.files[final] == data
    assert world.storage.files[thumbnail_key(final)].startswith(b"\xff\xd8")
    assert world.probe.thumbnails == [(key, DEFAULT_MEDIA.duration_seconds * 0.1)]


async def test_processing_an_unreadable_file_fails_it_with_the_reason_and_drops_the_bytes(
    world: World, acme: Tenant
) -> None:
    video, key = await staged(world, acme, mp4_bytes(tail=UNREADABLE))

    await world.process()(video.id, key)

    stored = world.store.videos[video.id]
    assert (stored.status, stored.pending_key, stored.storage_key) == (VideoStatus.FAILED, None, None)
    assert stored.failure_reason == "The file has no readable video stream."
    assert not world.storage.files


async def test_processing_twice_ends_in_the_same_state_without_error(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme)
    await world.process()(video.id, key)
    before = vars(world.store.videos[video.id]).copy()
    files = dict(world.storage.files)

    await world.process()(video.id, key)

    assert vars(world.store.videos[video.id]) == before
    assert world.storage.files == files


async def test_a_retry_after_a_crash_past_the_move_publishes_the_video(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme)
    world.transcoder.percents = ()  # no progress writes: the next commit is the publish
    world.store.fail_next_commit(ConnectionError("worker lost the database after moving the file"))
    with pytest.raises(ConnectionError):
        await world.process()(video.id, key)
    assert world.store.videos[video.id].status is VideoStatus.PROCESSING
    assert set(world.storage.files) == published_files(key)

    await world.process()(video.id, key)

    stored = world.store.videos[video.id]
    assert (stored.status, stored.storage_key) == (VideoStatus.READY, media_key(key))
    assert set(world.storage.files) == published_files(key)


async def test_a_lost_upload_fails_instead_of_staying_processing(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme)
    del world.storage.files[key]

    await world.process()(video.id, key)

    stored = world.store.videos[video.id]
    assert stored.status is VideoStatus.FAILED
    assert stored.failure_reason is not None


async def test_a_replacement_swaps_files_only_once_processed_then_drops_the_old_ones(
    world: World, acme: Tenant
) -> None:
    video = await publish_video(world, acme.admin.principal)
    old_key, old_thumb = video.storage_key, video.thumbnail_key
    assert old_key is not None
    assert old_thumb is not None
    new_data = mp4_bytes(7000)
    new_key = await replace_file(world, acme, video, new_data)

    serving = world.store.videos[video.id]
    assert (serving.storage_key, serving.status) == (old_key, VideoStatus.READY)
    assert old_key in world.storage.files

    await run_jobs(world)

    stored = world.store.videos[video.id]
    assert (stored.storage_key, stored.size_bytes, stored.pending_key) == (media_key(new_key), 7000, None)
    assert set(world.storage.files) == published_files(new_key)
    assert world.storage.files[media_key(new_key)] == new_data


async def test_a_failed_replacement_keeps_the_old_file_and_ready_status(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    files = dict(world.storage.files)
    await replace_file(world, acme, video, mp4_bytes(tail=UNREADABLE))

    await run_jobs(world)

    stored = world.store.videos[video.id]
    assert (stored.status, stored.storage_key, stored.pending_key) == (VideoStatus.READY, video.storage_key, None)
    assert stored.failure_reason is not None
    assert world.storage.files == files


async def test_a_superseded_uploads_job_discards_its_bytes(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    first = await replace_file(world, acme, video, mp4_bytes(3000))
    second = await replace_file(world, acme, video, mp4_bytes(4000))

    await run_jobs(world)

    stored = world.store.videos[video.id]
    assert stored.storage_key == media_key(second)
    assert set(world.storage.files) == published_files(second)
    assert first not in world.probe.probed


async def test_a_superseded_upload_that_crashed_after_its_move_leaves_no_files(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    first = await replace_file(world, acme, video, mp4_bytes(3000))
    world.store.fail_next_commit(ConnectionError("crash after the move"))
    with pytest.raises(ConnectionError):
        await world.process()(video.id, first)
    second = await replace_file(world, acme, video, mp4_bytes(4000))

    await run_jobs(world)  # the retry of the first job, then the second job

    assert set(world.storage.files) == published_files(second)


async def test_an_upload_superseded_while_it_is_processed_is_discarded_not_published(
    world: World, acme: Tenant
) -> None:
    video = await publish_video(world, acme.admin.principal)
    first = await replace_file(world, acme, video, mp4_bytes(3000))
    newer: list[str] = []

    class RacingProbe(FakeMediaProbe):
        async def probe(self, key: str) -> MediaInfo:
            if not newer:  # another admin replaces the file again while this job probes
                newer.append(await replace_file(world, acme, video, mp4_bytes(4000)))
            return await super().probe(key)

    await world.process(RacingProbe(world.storage))(video.id, first)

    stored = world.store.videos[video.id]
    assert (stored.storage_key, stored.pending_key) == (video.storage_key, newer[0])
    assert not published_files(first) & set(world.storage.files)
    await world.process()(video.id, newer[0])
    assert world.store.videos[video.id].storage_key == media_key(newer[0])


async def test_a_job_for_an_unknown_video_discards_its_bytes(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme)
    del world.store.videos[video.id]

    await world.process()(video.id, key)

    assert not world.storage.files


async def test_uploads_pending_too_long_are_failed(world: World, acme: Tenant) -> None:
    stuck, stuck_key = await staged(world, acme)
    world.clock.advance(hours=2, seconds=1)
    recent, recent_key = await staged(world, acme)
    sweep = FailStuckUploads(world.uow, world.process(), world.clock, max_age=timedelta(hours=2))

    assert await sweep() == 1

    failed = world.store.videos[stuck.id]
    assert (failed.status, failed.pending_key) == (VideoStatus.FAILED, None)
    assert failed.failure_reason == "Processing did not finish in time."
    assert stuck_key not in world.storage.files
    assert world.store.videos[recent.id].status is VideoStatus.PROCESSING
    assert recent_key in world.storage.files
    assert await sweep() == 0


async def test_a_stuck_replacement_fails_but_keeps_serving_the_old_file(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    await replace_file(world, acme, video, mp4_bytes())
    world.clock.advance(hours=25)

    assert await FailStuckUploads(world.uow, world.process(), world.clock)() == 1

    stored = world.store.videos[video.id]
    assert (stored.status, stored.storage_key, stored.pending_key) == (VideoStatus.READY, video.storage_key, None)
    assert video.storage_key in world.storage.files


async def test_every_pending_upload_is_requeued_and_nothing_else(world: World, acme: Tenant) -> None:
    """The queue lost its jobs (Redis restarted empty): the database says which uploads still need one."""
    ready = await publish_video(world, acme.admin.principal)
    replaced = await publish_video(world, acme.admin.principal, title="Replaced")
    replacement_key = await replace_file(world, acme, replaced, mp4_bytes())
    pending, pending_key = await staged(world, acme)
    failed, failed_key = await staged(world, acme, data=mp4_bytes(tail=UNREADABLE))
    await world.process()(failed.id, failed_key)
    world.jobs.enqueued.clear()  # lost
    world.clock.advance(seconds=1)

    assert await RequeuePendingUploads(world.uow, world.jobs, world.clock)() == 2

    assert sorted(world.jobs.enqueued) == sorted([(replaced.id, replacement_key), (pending.id, pending_key)])
    await run_jobs(world)
    assert world.store.videos[pending.id].status is VideoStatus.READY
    assert world.store.videos[replaced.id].pending_key is None
    assert world.store.videos[ready.id].pending_key is None
    assert await RequeuePendingUploads(world.uow, world.jobs, world.clock)() == 0


async def test_a_source_that_fails_to_transcode_fails_the_upload_and_leaves_nothing(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme, mp4_bytes(tail=UNTRANSCODABLE))

    await world.process()(video.id, key)

    stored = world.store.videos[video.id]
    assert (stored.status, stored.progress, stored.renditions) == (VideoStatus.FAILED, None, ())
    assert stored.failure_reason == "The video data is damaged or incomplete."
    assert not world.storage.files


async def test_progress_is_written_every_five_points_or_after_ten_seconds_and_100_only_once_ready(
    world: World, acme: Tenant
) -> None:
    video, key = await staged(world, acme)
    assert world.store.videos[video.id].progress == 0
    world.transcoder.percents = (2, 4, 6, 7, 8, 100)
    seen: list[int | None] = []

    async def before_each(percent: int) -> None:
        seen.append(world.store.videos[video.id].progress)
        if percent == 8:
            world.clock.advance(seconds=10)  # a slow stretch: one point is worth a write now

    world.transcoder.during = before_each

    await world.process()(video.id, key)

    assert seen == [0, 0, 0, 6, 6, 8]  # 100 from the transcoder is held back at 99 until the publish
    stored = world.store.videos[video.id]
    assert (stored.status, stored.progress) == (VideoStatus.READY, 100)
    assert [r.name for r in stored.renditions] == ["240p", "360p", "480p", "720p"]


async def test_a_replacement_leaves_the_served_videos_progress_at_100(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    await replace_file(world, acme, video, mp4_bytes(5000))
    seen: list[int | None] = []

    async def before_each(percent: int) -> None:
        seen.append(world.store.videos[video.id].progress)

    world.transcoder.during = before_each

    await run_jobs(world)

    assert set(seen) == {100}
    assert world.store.videos[video.id].progress == 100


async def test_an_upload_replaced_mid_transcode_stops_and_leaves_nothing_of_its_own(world: World, acme: Tenant) -> None:
    video, first = await staged(world, acme)
    newer: list[str] = []

    async def replace_once(percent: int) -> None:
        if not newer:
            newer.append(await replace_file(world, acme, video, mp4_bytes(4000)))

    world.transcoder.during = replace_once

    await world.process()(video.id, first)

    assert world.transcoder.sources[1:] == []  # the next progress write stopped the first transcode
    stored = world.store.videos[video.id]
    assert (stored.status, stored.pending_key, stored.progress) == (VideoStatus.PROCESSING, newer[0], 0)
    assert set(world.storage.files) == {newer[0]}
    world.transcoder.during = None
    await world.process()(video.id, newer[0])
    assert set(world.storage.files) == published_files(newer[0])


async def test_a_retry_replaces_the_renditions_a_killed_attempt_stored(world: World, acme: Tenant) -> None:
    video, key = await staged(world, acme)
    stale = hls_prefix(media_key(key)) + "240p/seg_00099.m4s"  # from an attempt killed mid-upload
    await world.storage.put_bytes(stale, b"an older encoding")

    await world.process()(video.id, key)

    assert set(world.storage.files) == published_files(key)
