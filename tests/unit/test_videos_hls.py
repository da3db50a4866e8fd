"""Watching by HLS: the token a playlist hands on (injected clock), the files a view may name, and crediting."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest

from tests.unit.factories import Account, Tenant, World, log_in, publish_video
from vidplat.adapters.local.cache import MemoryReadCache
from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import HlsFileNotFound, VideoNotReady
from vidplat.domain.videos.delivery import (
    SEGMENT_GRACE,
    HlsFile,
    HlsFileKind,
    carry_token_in_track,
)
from vidplat.domain.videos.hls import OpenHlsFile, ReadPlaylist
from vidplat.domain.videos.keys import hls_prefix
from vidplat.domain.videos.model import PlaybackKind, Video
from vidplat.domain.videos.playback import IssuePlayback, PlaybackPass, RedeemPlayback, ViewCredits
from vidplat.domain.videos.renditions import Rendition

TTL = timedelta(minutes=5)
DURATION = 600.0
MASTER = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=528000,RESOLUTION=426x240,CODECS="avc1.64001e"\n240p/index.m3u8\n'
VARIANT = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.0,\nseg_00000.m4s\n#EXT-X-ENDLIST\n'
TRACK = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard.jpg#xywh=0,0,160,90\n"


@pytest.fixture
async def video(world: World, acme: Tenant) -> Video:
    """A ready ten-minute video with one rendition whose files are in storage."""
    video = await publish_video(world, acme.admin.principal)
    assert video.storage_key is not None
    video.duration_seconds = DURATION
    video.renditions = (Rendition(name="240p", width=426, height=240, max_bitrate=400_000),)
    prefix = hls_prefix(video.storage_key)
    for name, data in {
        "master.m3u8": MASTER,
        "240p/index.m3u8": VARIANT,
        "240p/init.mp4": "init",
        "240p/seg_00000.m4s": "media",
        "storyboard.vtt": TRACK,
    }.items():
        world.storage.files[prefix + name] = data.encode()
    return video


@pytest.fixture
async def watcher(world: World, acme: Tenant, member: Account) -> Principal:
    _, principal = await log_in(world, acme, member)
    return principal


def read_playlist(world: World) -> ReadPlaylist:
    return ReadPlaylist(world.uow, world.storage, world.signer, world.clock)


def credits(world: World) -> ViewCredits:
    return ViewCredits(world.credit(), background=world.background)


async def start_pass(world: World, watcher: Principal, video: Video) -> PlaybackPass:
    grant = await IssuePlayback(world.uow, world.signer, world.clock, TTL)(watcher, video.id)
    return await RedeemPlayback(world.signer, world.clock, world.sessions())(grant.start_token, video.id)


def carried_token(playlist: str) -> str:
    uri = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    return unquote(uri.partition("token=")[2])


async def test_the_grant_starts_within_the_ttl_and_its_progressive_token_lasts_a_view_begun_at_its_end(
    world: World, watcher: Principal, video: Video
) -> None:
    grant = await IssuePlayback(world.uow, world.signer, world.clock, TTL)(watcher, video.id)

    start = world.signer.verify(grant.start_token, video.id, world.clock.now())
    view = world.signer.verify(grant.view_token, video.id, world.clock.now())
    assert (start.kind, start.expires_at) == (PlaybackKind.START, world.clock.now() + TTL)
    assert grant.expires_at == start.expires_at
    assert view.kind is PlaybackKind.VIEW
    assert view.expires_at == world.clock.now() + TTL + timedelta(seconds=DURATION) + SEGMENT_GRACE


async def test_a_playlist_opened_by_a_start_token_hands_on_a_view_token_lasting_the_video_plus_the_grace(
    world: World, watcher: Principal, video: Video
) -> None:
    presented = await start_pass(world, watcher, video)
    world.clock.advance(timedelta(minutes=4))  # opened late in the start window

    master = await read_playlist(world)(watcher, video.id, HlsFile.of(HlsFileKind.MASTER), presented)

    handed = world.signer.verify(carried_token(master), video.id, world.clock.now())
    assert handed.kind is PlaybackKind.VIEW
    assert handed.expires_at == world.clock.now() + timedelta(seconds=DURATION) + SEGMENT_GRACE
    assert (handed.user_id, handed.session_id) == (presented.claims.user_id, presented.claims.session_id)
    world.clock.advance(timedelta(seconds=DURATION) + SEGMENT_GRACE - timedelta(seconds=1))
    world.signer.verify(carried_token(master), video.id, world.clock.now())  # the whole view and the grace


async def test_a_view_token_is_carried_on_as_it_is_so_replaying_it_never_extends_a_view(
    world: World, watcher: Principal, video: Video
) -> None:
    playlists = read_playlist(world)
    master = await playlists(watcher, video.id, HlsFile.of(HlsFileKind.MASTER), await start_pass(world, watcher, video))
    view = carried_token(master)
    world.clock.advance(timedelta(minutes=20))
    redeemed = await RedeemPlayback(world.signer, world.clock, world.sessions())(view, video.id)

    for file in (HlsFile.of(HlsFileKind.MASTER), HlsFile.in_rendition("240p", "index.m3u8")):
        assert carried_token(await playlists(watcher, video.id, file, redeemed)) == view


async def test_a_bearer_caller_gets_the_playlists_as_stored(world: World, watcher: Principal, video: Video) -> None:
    playlists = read_playlist(world)

    assert await playlists(watcher, video.id, HlsFile.of(HlsFileKind.MASTER), None) == MASTER
    assert await playlists(watcher, video.id, HlsFile.in_rendition("240p", "index.m3u8"), None) == VARIANT


async def test_the_storyboard_track_carries_the_view_token_into_its_cues_only(
    world: World, watcher: Principal, video: Video
) -> None:
    presented = await start_pass(world, watcher, video)

    track = await read_playlist(world)(watcher, video.id, HlsFile.of(HlsFileKind.TRACK), presented)

    lines = track.splitlines()
    assert lines[:3] == ["WEBVTT", "", "00:00:00.000 --> 00:00:02.000"]
    assert lines[3].startswith("storyboard.jpg?token=")
    assert lines[3].endswith("#xywh=0,0,160,90")


def test_only_cue_payloads_of_a_track_get_the_token() -> None:
    track = "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\na.jpg#xywh=0,0,1,1\n\n00:00:02.000 --> 00:00:03.000\nb.jpg\n"

    assert carry_token_in_track(track, "t") == (
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:02.000\na.jpg?token=t#xywh=0,0,1,1\n\n"
        "00:00:02.000 --> 00:00:03.000\nb.jpg?token=t\n"
    )


@pytest.mark.parametrize(
    ("rendition", "name", "kind"),
    [
        ("240p", "index.m3u8", HlsFileKind.VARIANT),
        ("1080p", "init.mp4", HlsFileKind.INIT),
        ("48p", "seg_00042.m4s", HlsFileKind.SEGMENT),
        ("720p", "seg_123456789.m4s", HlsFileKind.SEGMENT),
    ],
)
def test_the_transcoders_names_are_recognised(rendition: str, name: str, kind: HlsFileKind) -> None:
    file = HlsFile.in_rendition(rendition, name)

    assert (file.kind, file.path, file.rendition) == (kind, f"{rendition}/{name}", rendition)


@pytest.mark.parametrize(
    ("rendition", "name"),
    [
        ("..", "index.m3u8"),
        ("240p", "../master.m3u8"),
        ("240p/..", "init.mp4"),
        ("240p", "seg_1.m4s"),
        ("240p", "seg_00001.m4s/"),
        ("240p", "SEG_00001.M4S"),
        ("p", "index.m3u8"),
        ("240p", "master.m3u8"),
        ("240p", "storyboard.jpg"),
        ("240p\n", "init.mp4"),
        ("240p", "init.mp4\n"),
    ],
)
def test_any_other_name_is_not_found(rendition: str, name: str) -> None:
    with pytest.raises(HlsFileNotFound):
        HlsFile.in_rendition(rendition, name)


async def test_a_rendition_the_video_does_not_have_is_not_found(world: World, watcher: Principal, video: Video) -> None:
    with pytest.raises(HlsFileNotFound):
        await read_playlist(world)(watcher, video.id, HlsFile.in_rendition("360p", "index.m3u8"), None)
    with pytest.raises(HlsFileNotFound):
        await OpenHlsFile(world.uow, world.storage, credits(world))(
            watcher, video.id, HlsFile.in_rendition("360p", "init.mp4")
        )


async def test_a_video_without_renditions_is_not_ready_for_hls(world: World, acme: Tenant, watcher: Principal) -> None:
    legacy = await publish_video(world, acme.admin.principal, title="Before HLS")
    legacy.renditions = ()  # processed before HLS existed

    with pytest.raises(VideoNotReady):
        await read_playlist(world)(watcher, legacy.id, HlsFile.of(HlsFileKind.MASTER), None)
    with pytest.raises(VideoNotReady):
        await OpenHlsFile(world.uow, world.storage, credits(world))(watcher, legacy.id, HlsFile.of(HlsFileKind.SPRITE))


async def test_a_missing_file_on_a_fresh_read_is_not_found_and_on_a_cached_one_asks_again(
    world: World, watcher: Principal, video: Video
) -> None:
    opener = OpenHlsFile(world.uow, world.storage, credits(world))
    absent = HlsFile.in_rendition("240p", "seg_00007.m4s")

    with pytest.raises(FileNotFoundError):  # the HTTP layer then asks again with fresh=True
        await opener(watcher, video.id, absent)
    with pytest.raises(HlsFileNotFound):
        await opener(watcher, video.id, absent, fresh=True)


async def test_a_cached_row_uses_the_cached_head_and_a_fresh_one_asks_the_store(
    world: World, watcher: Principal, video: Video
) -> None:
    opener = OpenHlsFile(
        world.uow, world.storage, credits(world), heads=MemoryReadCache(world.clock, ttl=TTL, max_weight=10)
    )
    segment = HlsFile.in_rendition("240p", "seg_00000.m4s")
    assert video.storage_key is not None
    await opener(watcher, video.id, segment)
    # A replacement deletes the old files: only a head would notice.
    del world.storage.files[hls_prefix(video.storage_key) + segment.path]

    cached = await opener(watcher, video.id, segment)

    assert cached.size == len(b"media")
    with pytest.raises(HlsFileNotFound):
        await opener(watcher, video.id, segment, fresh=True)


async def test_only_a_media_segment_credits_the_view_and_only_once(
    world: World, member: Account, watcher: Principal, video: Video
) -> None:
    views = credits(world)
    opener = OpenHlsFile(world.uow, world.storage, views)
    await opener(watcher, video.id, HlsFile.in_rendition("240p", "init.mp4"))
    await world.background.settled()
    assert not world.store.credits

    first = HlsFile.in_rendition("240p", "seg_00000.m4s")
    segments = [await opener(watcher, video.id, first) for _ in range(3)]
    await world.background.settled()
    segment = segments[0]

    assert len(world.store.credits) == 1
    assert (segment.content_type, segment.size) == ("video/iso.segment", len(b"media"))
    assert b"".join([chunk async for chunk in segment.read(0, segment.size)]) == b"media"
