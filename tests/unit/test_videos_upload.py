"""Uploading: stream to a staging key, refuse what is not a video, enqueue processing only after commit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

import pytest

from tests.unit.factories import MAX_UPLOAD, Account, Tenant, World, mp4_bytes, publish_video, stream, upload
from tests.unit.fakes import FakeJobQueue
from vidplat.domain.errors import AdminRequired, InvalidInput, PayloadTooLarge, UnsupportedMedia, VideoNotFound
from vidplat.domain.videos.model import VideoStatus
from vidplat.domain.videos.upload import ReplaceCommand, ReplaceVideoFile, UploadCommand


def replace(world: World) -> ReplaceVideoFile:
    return ReplaceVideoFile(world.uow, world.uploads(), world.clock)


def new_file(chunks: AsyncIterator[bytes] | None = None, *, title: str | None = None) -> ReplaceCommand:
    return ReplaceCommand(title=title, description=None, chunks=chunks or stream(mp4_bytes()))


async def test_upload_stages_the_bytes_creates_a_processing_row_and_enqueues_one_job(
    world: World, acme: Tenant
) -> None:
    data = mp4_bytes(5000)

    video = await upload(world, acme.admin.principal, title="  Launch  ", data=data)

    stored = world.store.videos[video.id]
    assert (stored.title, stored.status, stored.size_bytes) == ("Launch", VideoStatus.PROCESSING, 5000)
    assert (stored.organization_id, stored.uploaded_by) == (acme.org.id, acme.admin.user.id)
    assert stored.storage_key is None
    assert stored.pending_key is not None
    assert stored.pending_key.startswith(f"orgs/{acme.org.id}/uploads/{video.id}/")
    assert world.storage.files == {stored.pending_key: data}
    assert world.jobs.enqueued == [(video.id, stored.pending_key)]


@pytest.mark.parametrize("data", [b"", b"GIF89a" + b"\x00" * 100, b"%PDF-1.7\n" * 20], ids=["empty", "gif", "pdf"])
async def test_upload_of_non_video_bytes_is_unsupported_and_leaves_nothing(
    world: World, acme: Tenant, data: bytes
) -> None:
    with pytest.raises(UnsupportedMedia):
        await upload(world, acme.admin.principal, data=data)

    assert not world.storage.files
    assert not world.store.videos
    assert not world.jobs.enqueued


async def test_upload_over_the_limit_is_too_large_and_leaves_nothing(world: World, acme: Tenant) -> None:
    with pytest.raises(PayloadTooLarge):
        await upload(world, acme.admin.principal, data=mp4_bytes(MAX_UPLOAD + 1))

    assert not world.storage.files
    assert not world.store.videos
    assert not world.jobs.enqueued


async def test_upload_at_exactly_the_limit_is_accepted(world: World, acme: Tenant) -> None:
    video = await upload(world, acme.admin.principal, data=mp4_bytes(MAX_UPLOAD))

    assert world.store.videos[video.id].size_bytes == MAX_UPLOAD


async def test_oversized_upload_stops_reading_the_stream_at_the_limit(world: World, acme: Tenant) -> None:
    sent: list[int] = []

    async def endless() -> AsyncIterator[bytes]:
        yield mp4_bytes(1000)
        for _ in range(10 * MAX_UPLOAD // 1000):  # bounded, so a regression fails instead of hanging
            sent.append(1000)
            yield b"\x00" * 1000

    with pytest.raises(PayloadTooLarge):
        await world.upload()(acme.admin.principal, UploadCommand(title="Huge", description=None, chunks=endless()))

    assert sum(sent) <= MAX_UPLOAD


async def test_the_job_is_enqueued_only_once_the_row_is_committed(world: World, acme: Tenant) -> None:
    seen_committed: list[bool] = []

    class CheckingQueue(FakeJobQueue):
        async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
            seen_committed.append(world.store.videos.get(video_id) is not None)
            await super().enqueue_video_processing(video_id, upload_key)

    world.jobs = CheckingQueue()
    await upload(world, acme.admin.principal)

    assert seen_committed == [True]


async def test_failed_commit_enqueues_no_job_and_keeps_no_staged_bytes(world: World, acme: Tenant) -> None:
    world.store.fail_next_commit(ConnectionError("database went away"))

    with pytest.raises(ConnectionError):
        await upload(world, acme.admin.principal)

    assert not world.jobs.enqueued
    assert not world.storage.files
    assert not world.store.videos


async def test_failure_while_saving_the_row_keeps_no_staged_bytes(world: World, acme: Tenant) -> None:
    world.store.break_repository("videos", ConnectionError("database went away"))

    with pytest.raises(ConnectionError):
        await upload(world, acme.admin.principal)

    assert not world.jobs.enqueued
    assert not world.storage.files


async def test_member_cannot_upload(world: World, member: Account) -> None:
    with pytest.raises(AdminRequired):
        await upload(world, member.principal)

    assert not world.storage.files
    assert not world.store.videos


async def test_upload_needs_a_title(world: World, acme: Tenant) -> None:
    with pytest.raises(InvalidInput) as caught:
        await upload(world, acme.admin.principal, title="   ")

    assert caught.value.errors[0].field == "title"
    assert not world.storage.files


async def test_replacing_the_file_keeps_the_old_one_serving_until_processed(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    cmd = ReplaceCommand(title="Take two", description="Recut", chunks=stream(mp4_bytes(3000)))

    replaced = await replace(world)(acme.admin.principal, video.id, cmd)

    stored = world.store.videos[video.id]
    assert (stored.title, stored.description, stored.status) == ("Take two", "Recut", VideoStatus.READY)
    assert stored.storage_key == video.storage_key
    assert stored.pending_key is not None
    assert stored.pending_key != video.storage_key
    assert world.jobs.enqueued == [(video.id, stored.pending_key)]
    assert replaced.pending_key == stored.pending_key


async def test_replacing_a_failed_upload_puts_it_back_to_processing(world: World, acme: Tenant) -> None:
    video = await upload(world, acme.admin.principal)
    assert video.pending_key is not None
    world.probe.mark_bad(video.pending_key)
    await world.process()(video.id, video.pending_key)
    assert world.store.videos[video.id].status is VideoStatus.FAILED

    cmd = new_file()
    await replace(world)(acme.admin.principal, video.id, cmd)

    stored = world.store.videos[video.id]
    assert (stored.status, stored.failure_reason, stored.title) == (VideoStatus.PROCESSING, None, video.title)


async def test_replacing_with_non_video_bytes_changes_nothing(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    files = dict(world.storage.files)

    with pytest.raises(UnsupportedMedia):
        await replace(world)(acme.admin.principal, video.id, new_file(stream(b"nope"), title="x"))

    assert world.storage.files == files
    assert world.store.videos[video.id].title == video.title


async def test_member_cannot_replace_a_file(world: World, acme: Tenant, member: Account) -> None:
    video = await publish_video(world, acme.admin.principal)

    with pytest.raises(AdminRequired):
        await replace(world)(member.principal, video.id, new_file())


async def test_replacing_a_deleted_video_is_not_found(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    world.store.videos[video.id].deleted_at = world.clock.now()
    files = dict(world.storage.files)

    with pytest.raises(VideoNotFound):
        await replace(world)(acme.admin.principal, video.id, new_file())

    assert world.storage.files == files


async def test_failed_replacement_commit_keeps_no_staged_bytes(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    files = dict(world.storage.files)
    world.store.fail_next_commit(ConnectionError("database went away"))

    with pytest.raises(ConnectionError):
        await replace(world)(acme.admin.principal, video.id, new_file())

    assert world.storage.files == files
    assert not world.jobs.enqueued
    assert world.store.videos[video.id].pending_key is None


async def test_video_deleted_while_its_replacement_streams_keeps_no_staged_bytes(world: World, acme: Tenant) -> None:
    video = await publish_video(world, acme.admin.principal)
    files = dict(world.storage.files)

    async def chunks() -> AsyncIterator[bytes]:
        yield mp4_bytes(100)
        world.store.videos[video.id].deleted_at = world.clock.now()  # another admin trashes it meanwhile
        yield b"\x00" * 100

    with pytest.raises(VideoNotFound):
        await replace(world)(acme.admin.principal, video.id, new_file(chunks()))

    assert world.storage.files == files
    assert not world.jobs.enqueued
