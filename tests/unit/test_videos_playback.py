"""Watching: playback grants, redeeming them, opening the stream (with its view credit), thumbnails."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.factories import VIEW_POINTS, Account, Tenant, World, publish_video, upload
from vidplat.adapters.local.cache import MemoryReadCache
from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import InvalidToken, VideoNotFound, VideoNotReady
from vidplat.domain.videos.model import Video
from vidplat.domain.videos.playback import GetThumbnail, IssuePlayback, OpenStream, RedeemPlayback

TTL = timedelta(minutes=5)


def issue(world: World) -> IssuePlayback:
    return IssuePlayback(world.uow, world.signer, world.clock, TTL)


def redeem(world: World) -> RedeemPlayback:
    return RedeemPlayback(world.uow, world.signer, world.clock)


def open_stream(world: World) -> OpenStream:
    return OpenStream(world.uow, world.storage, world.credit())


async def read_all(world: World, principal: Principal, video: Video) -> bytes:
    playable = await open_stream(world)(principal, video.id)
    return b"".join([chunk async for chunk in playable.read(0, playable.size)])


@pytest.fixture
async def video(world: World, acme: Tenant) -> Video:
    return await publish_video(world, acme.admin.principal)


async def test_a_grant_is_issued_for_a_visible_ready_video_and_redeems_to_its_user(
    world: World, member: Account, video: Video
) -> None:
    grant = await issue(world)(member.principal, video.id)

    assert grant.expires_at == world.clock.now() + TTL
    caller = await redeem(world)(grant.token, video.id)
    assert (caller.user_id, caller.organization_id, caller.role) == (
        member.user.id,
        member.user.organization_id,
        member.user.role,
    )
    assert caller.session_id is None


async def test_no_grant_for_a_video_that_is_not_ready(world: World, acme: Tenant, member: Account) -> None:
    pending = await upload(world, acme.admin.principal)

    with pytest.raises(VideoNotReady):
        await issue(world)(acme.admin.principal, pending.id)
    with pytest.raises(VideoNotFound):
        await issue(world)(member.principal, pending.id)


async def test_a_grant_for_one_video_does_not_open_another(
    world: World, acme: Tenant, member: Account, video: Video
) -> None:
    other = await publish_video(world, acme.admin.principal, title="Other")
    grant = await issue(world)(member.principal, video.id)

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.token, other.id)


async def test_an_expired_grant_is_refused(world: World, member: Account, video: Video) -> None:
    grant = await issue(world)(member.principal, video.id)
    world.clock.advance(TTL)

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.token, video.id)


async def test_a_tampered_grant_is_refused(world: World, member: Account, video: Video) -> None:
    grant = await issue(world)(member.principal, video.id)
    forged = grant.token.replace(str(member.user.id), str(video.uploaded_by))

    with pytest.raises(InvalidToken):
        await redeem(world)(forged, video.id)


async def test_a_deleted_users_grant_is_refused(world: World, member: Account, video: Video) -> None:
    grant = await issue(world)(member.principal, video.id)
    world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.token, video.id)


async def test_a_grant_for_another_tenants_video_is_refused(world: World, globex: Tenant, video: Video) -> None:
    # Signed by us, so only the tenancy check stands between an outsider and the video.
    token = world.signer.sign(globex.admin.user.id, video.id, world.clock.now() + TTL)

    with pytest.raises(InvalidToken):
        await redeem(world)(token, video.id)


async def test_opening_a_stream_serves_the_file_and_credits_the_view_once(
    world: World, member: Account, video: Video
) -> None:
    first = await read_all(world, member.principal, video)
    second = await read_all(world, member.principal, video)

    assert video.storage_key is not None
    assert first == second == world.storage.files[video.storage_key]
    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_a_repeat_stream_of_a_view_this_process_credited_takes_no_lock_and_only_reads(
    world: World, member: Account, video: Video
) -> None:
    opener = OpenStream(world.uow, world.storage, world.credit(), MemoryReadCache(world.clock, ttl=TTL, max_weight=10))
    await opener(member.principal, video.id)
    units_before, locks_before = len(world.store.units), len(world.lock.attempts)

    await opener(member.principal, video.id)

    assert len(world.lock.attempts) == locks_before
    assert all(unit.read_only for unit in world.store.units[units_before:])


async def test_a_process_that_has_not_seen_the_credit_tries_again_and_credits_nothing_more(
    world: World, member: Account, video: Video
) -> None:
    await open_stream(world)(member.principal, video.id)

    await open_stream(world)(member.principal, video.id)  # a new OpenStream: a process with nothing cached

    assert len(world.lock.batches) == 2
    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_the_stream_describes_the_file_for_http_validators(world: World, member: Account, video: Video) -> None:
    playable = await open_stream(world)(member.principal, video.id)

    assert (playable.size, playable.content_type) == (video.size_bytes, "video/mp4")
    assert playable.etag == f'"{video.checksum}"'
    assert playable.last_modified == video.updated_at
    assert b"".join([c async for c in playable.read(4, 4)]) == b"ftyp"


async def test_a_failing_credit_does_not_break_playback(world: World, member: Account, video: Video) -> None:
    world.store.break_repository("credits", ConnectionError("ledger unavailable"))

    playable = await open_stream(world)(member.principal, video.id)

    assert playable.size == video.size_bytes
    assert world.store.users[member.user.id].points == 0


async def test_stream_of_a_deleted_or_unready_video_is_refused(world: World, acme: Tenant, video: Video) -> None:
    pending = await upload(world, acme.admin.principal)
    with pytest.raises(VideoNotReady):
        await open_stream(world)(acme.admin.principal, pending.id)

    world.store.videos[video.id].deleted_at = world.clock.now()
    with pytest.raises(VideoNotFound):
        await open_stream(world)(acme.admin.principal, video.id)
    assert not world.store.credits


async def test_thumbnail_is_served_once_ready(world: World, member: Account, video: Video) -> None:
    thumbnail = await GetThumbnail(world.uow, world.storage)(member.principal, video.id)

    assert video.thumbnail_key is not None
    assert thumbnail == world.storage.files[video.thumbnail_key]


async def test_thumbnail_before_ready_is_not_found(world: World, acme: Tenant) -> None:
    pending = await upload(world, acme.admin.principal)

    with pytest.raises(VideoNotFound):
        await GetThumbnail(world.uow, world.storage)(acme.admin.principal, pending.id)


async def test_a_fresh_open_reads_the_row_past_a_cached_copy_that_names_a_replaced_file(
    world: World, member: Account, video: Video
) -> None:
    """The stream's retry after FileNotFoundError: another process replaced the file and this
    one has not heard of it yet, so its cached row still names the deleted file."""
    cache = MemoryReadCache(world.clock, ttl=timedelta(minutes=1), max_weight=10)
    opener = OpenStream(world.uow, world.storage, world.credit(), cache)
    first = await opener(member.principal, video.id)
    stored = world.store.videos[video.id]
    stored.storage_key = "videos/replacement.mp4"
    world.storage.files[stored.storage_key] = world.storage.files.pop(first.storage_key)

    assert (await opener(member.principal, video.id)).storage_key == first.storage_key  # stale, as cached
    assert (await opener(member.principal, video.id, fresh=True)).storage_key == "videos/replacement.mp4"
