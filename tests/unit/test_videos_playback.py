"""Watching: playback grants, redeeming them, opening the stream (with its view credit), thumbnails."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from uuid import UUID

import pytest

from tests.unit.factories import PASSWORD, VIEW_POINTS, Account, Tenant, World, log_in, publish_video, upload
from vidplat.adapters.local.cache import MemoryReadCache
from vidplat.domain import topics
from vidplat.domain.accounts.auth import Logout, SessionCheck
from vidplat.domain.accounts.model import Principal
from vidplat.domain.accounts.users import ChangeOwnPassword, ChangePasswordCommand
from vidplat.domain.errors import InvalidToken, VideoNotFound, VideoNotReady
from vidplat.domain.ports import ReadCache
from vidplat.domain.topics import NO_CACHE
from vidplat.domain.videos.model import PlaybackClaims, PlaybackKind, Video
from vidplat.domain.videos.playback import GetThumbnail, IssuePlayback, OpenStream, RedeemPlayback, ViewCredits

TTL = timedelta(minutes=5)


def issue(world: World) -> IssuePlayback:
    return IssuePlayback(world.uow, world.signer, world.clock, TTL)


def redeem(world: World) -> RedeemPlayback:
    return RedeemPlayback(world.signer, world.clock, world.sessions())


def open_stream(world: World, cache: ReadCache = NO_CACHE) -> OpenStream:
    return OpenStream(world.uow, world.storage, ViewCredits(world.credit(), cache, world.background), cache)


def start_claims(user_id: UUID, session_id: UUID, expires_at: datetime) -> PlaybackClaims:
    return PlaybackClaims(user_id=user_id, session_id=session_id, kind=PlaybackKind.START, expires_at=expires_at)


async def read_all(world: World, principal: Principal, video: Video) -> bytes:
    playable = await open_stream(world)(principal, video.id)
    await world.background.settled()
    return b"".join([chunk async for chunk in playable.read(0, playable.size)])


@pytest.fixture
async def video(world: World, acme: Tenant) -> Video:
    return await publish_video(world, acme.admin.principal)


@pytest.fixture
async def watcher(world: World, acme: Tenant, member: Account) -> Principal:
    """The member as a logged-in caller: a grant names the session it was issued in."""
    _, principal = await log_in(world, acme, member)
    return principal


async def test_a_grant_is_issued_for_a_visible_ready_video_and_redeems_to_its_user_and_session(
    world: World, member: Account, watcher: Principal, video: Video
) -> None:
    grant = await issue(world)(watcher, video.id)

    assert grant.expires_at == world.clock.now() + TTL
    redeemed = await redeem(world)(grant.start_token, video.id)
    caller = redeemed.principal
    assert caller == watcher
    assert (redeemed.token, redeemed.claims.kind, redeemed.claims.expires_at) == (
        grant.start_token,
        PlaybackKind.START,
        grant.expires_at,
    )
    assert (caller.user_id, caller.organization_id, caller.role) == (
        member.user.id,
        member.user.organization_id,
        member.user.role,
    )


async def test_no_grant_for_a_video_that_is_not_ready(world: World, acme: Tenant, watcher: Principal) -> None:
    pending = await upload(world, acme.admin.principal)
    _, admin = await log_in(world, acme, acme.admin)

    with pytest.raises(VideoNotReady):
        await issue(world)(admin, pending.id)
    with pytest.raises(VideoNotFound):
        await issue(world)(watcher, pending.id)


async def test_no_grant_for_a_caller_without_a_session(world: World, member: Account, video: Video) -> None:
    with pytest.raises(InvalidToken):
        await issue(world)(member.principal, video.id)


async def test_a_grant_for_one_video_does_not_open_another(
    world: World, acme: Tenant, watcher: Principal, video: Video
) -> None:
    other = await publish_video(world, acme.admin.principal, title="Other")
    grant = await issue(world)(watcher, video.id)

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.start_token, other.id)


async def test_an_expired_grant_is_refused(world: World, watcher: Principal, video: Video) -> None:
    grant = await issue(world)(watcher, video.id)
    world.clock.advance(TTL - timedelta(seconds=1))
    await redeem(world)(grant.start_token, video.id)
    world.clock.advance(timedelta(seconds=1))

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.start_token, video.id)


async def test_a_tampered_grant_is_refused(world: World, member: Account, watcher: Principal, video: Video) -> None:
    grant = await issue(world)(watcher, video.id)
    forged = grant.start_token.replace(str(member.user.id), str(video.uploaded_by))

    with pytest.raises(InvalidToken):
        await redeem(world)(forged, video.id)


async def test_a_grant_dies_with_its_session_at_logout(world: World, watcher: Principal, video: Video) -> None:
    grant = await issue(world)(watcher, video.id)
    await Logout(world.uow, world.clock)(watcher)

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.start_token, video.id)


async def test_a_grant_dies_when_the_password_changes_in_another_session(
    world: World, acme: Tenant, member: Account, watcher: Principal, video: Video
) -> None:
    grant = await issue(world)(watcher, video.id)
    _, elsewhere = await log_in(world, acme, member)
    change = ChangeOwnPassword(world.uow, world.hasher, world.clock)

    await change(elsewhere, ChangePasswordCommand(current_password=PASSWORD, new_password="a brand new secret"))

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.start_token, video.id)


async def test_a_deleted_users_grant_is_refused(
    world: World, member: Account, watcher: Principal, video: Video
) -> None:
    grant = await issue(world)(watcher, video.id)
    world.store.users[member.user.id].deleted_at = world.clock.now()

    with pytest.raises(InvalidToken):
        await redeem(world)(grant.start_token, video.id)


async def test_a_grant_naming_another_users_session_is_refused(
    world: World, acme: Tenant, watcher: Principal, video: Video
) -> None:
    assert watcher.session_id is not None
    claims = start_claims(acme.admin.user.id, watcher.session_id, world.clock.now() + TTL)
    token = world.signer.sign(claims, video.id)

    with pytest.raises(InvalidToken):
        await redeem(world)(token, video.id)


async def test_a_redeemed_grant_is_checked_through_the_cached_session_check(
    world: World, watcher: Principal, video: Video
) -> None:
    cache = MemoryReadCache(world.clock, ttl=TTL, max_weight=10)
    cached = RedeemPlayback(world.signer, world.clock, SessionCheck(world.uow, world.clock, cache))
    grant = await issue(world)(watcher, video.id)
    await cached(grant.start_token, video.id)
    units = len(world.store.units)

    await cached(grant.start_token, video.id)
    assert len(world.store.units) == units  # the session check was remembered: no read at all

    await Logout(world.uow, world.clock)(watcher)
    assert watcher.session_id is not None
    cache.invalidate([topics.session(watcher.session_id)])  # what the real unit of work announces on commit
    with pytest.raises(InvalidToken):
        await cached(grant.start_token, video.id)


async def test_a_grant_for_another_tenants_video_opens_nothing(world: World, globex: Tenant, video: Video) -> None:
    # Signed by us, so only the tenancy check of what it opens stands between an outsider and the video.
    _, outsider = await log_in(world, globex, globex.admin)
    assert outsider.session_id is not None
    claims = start_claims(outsider.user_id, outsider.session_id, world.clock.now() + TTL)
    caller = (await redeem(world)(world.signer.sign(claims, video.id), video.id)).principal

    with pytest.raises(VideoNotFound):
        await open_stream(world)(caller, video.id)
    await world.background.settled()
    assert not world.store.credits


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
    opener = open_stream(world, MemoryReadCache(world.clock, ttl=TTL, max_weight=10))
    await opener(member.principal, video.id)
    await world.background.settled()
    units_before, locks_before = len(world.store.units), len(world.lock.attempts)

    await opener(member.principal, video.id)
    await world.background.settled()

    assert len(world.lock.attempts) == locks_before
    assert all(unit.read_only for unit in world.store.units[units_before:])


async def test_a_process_that_has_not_seen_the_credit_tries_again_and_credits_nothing_more(
    world: World, member: Account, video: Video
) -> None:
    await open_stream(world)(member.principal, video.id)
    await world.background.settled()

    await open_stream(world)(member.principal, video.id)  # a new OpenStream: a process with nothing cached
    await world.background.settled()

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
    await world.background.settled()

    assert playable.size == video.size_bytes
    assert world.store.users[member.user.id].points == 0


async def test_a_blocked_credit_does_not_hold_up_the_stream_and_commits_once_unblocked(
    world: World, member: Account, video: Video
) -> None:
    # Another player of this view holds its credit lock: the credit waits, the stream does not.
    opener = open_stream(world)
    async with world.lock.hold(f"credit:{member.user.id}:{video.id}"):
        answers = [await opener(member.principal, video.id) for _ in range(3)]  # a player's range requests
        for _ in range(10):  # the credit gets every chance to run; it can only wait for the lock
            await asyncio.sleep(0)

        assert all(playable.size == video.size_bytes for playable in answers)
        assert world.background.pending == 1  # one credit under way for the view, not one per request
        assert not world.store.credits

    await world.background.settled()
    assert len(world.store.credits) == 1
    assert world.store.users[member.user.id].points == VIEW_POINTS


async def test_stream_of_a_deleted_or_unready_video_is_refused(world: World, acme: Tenant, video: Video) -> None:
    pending = await upload(world, acme.admin.principal)
    with pytest.raises(VideoNotReady):
        await open_stream(world)(acme.admin.principal, pending.id)

    world.store.videos[video.id].deleted_at = world.clock.now()
    with pytest.raises(VideoNotFound):
        await open_stream(world)(acme.admin.principal, video.id)
    await world.background.settled()
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
    opener = open_stream(world, cache)
    first = await opener(member.principal, video.id)
    stored = world.store.videos[video.id]
    stored.storage_key = "videos/replacement.mp4"
    world.storage.files[stored.storage_key] = world.storage.files.pop(first.storage_key)

    assert (await opener(member.principal, video.id)).storage_key == first.storage_key  # stale, as cached
    assert (await opener(member.principal, video.id, fresh=True)).storage_key == "videos/replacement.mp4"
