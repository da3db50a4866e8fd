"""HLS delivery rules: token lifetimes on an injected clock, and playlists that carry the token."""

from __future__ import annotations

from datetime import timedelta

from tests.unit.fakes import FakeClock
from vidplat.domain.videos.delivery import SEGMENT_GRACE, carry_token, segment_expires_at, start_expires_at

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-STREAM-INF:BANDWIDTH=528000,RESOLUTION=426x240,CODECS="avc1.640015,mp4a.40.2"
240p/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=928000,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"
360p/index.m3u8
"""

VARIANT = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.000000,
seg_00000.m4s
#EXTINF:1.000000,
seg_00001.m4s
#EXT-X-ENDLIST
"""


def test_a_playback_token_opens_the_video_only_within_the_ttl() -> None:
    clock = FakeClock()
    expires = start_expires_at(clock.now(), timedelta(seconds=300))
    assert expires - clock.now() == timedelta(seconds=300)


def test_segment_tokens_outlast_the_video_by_the_grace() -> None:
    clock = FakeClock()
    presented = start_expires_at(clock.now(), timedelta(seconds=300))
    expires = segment_expires_at(clock.now(), 3600.0, presented)
    assert expires == clock.now() + timedelta(hours=1, minutes=30)


def test_a_short_video_still_gets_the_whole_grace() -> None:
    clock = FakeClock()
    assert segment_expires_at(clock.now(), 0.1, clock.now()) == clock.now() + timedelta(seconds=0.1) + SEGMENT_GRACE


def test_reading_a_playlist_again_never_shortens_the_segment_token() -> None:
    clock = FakeClock()
    first = segment_expires_at(clock.now(), 7200.0, clock.now())
    # Later, a segment token is presented to the master playlist of a now shorter replacement.
    later = clock.now() + timedelta(minutes=10)
    assert segment_expires_at(later, 60.0, first) == first


def test_the_master_playlist_carries_the_token_into_every_variant() -> None:
    rewritten = carry_token(MASTER, "a.b/c+d=")
    uris = [line for line in rewritten.splitlines() if line and not line.startswith("#")]
    assert uris == ["240p/index.m3u8?token=a.b%2Fc%2Bd%3D", "360p/index.m3u8?token=a.b%2Fc%2Bd%3D"]
    assert 'CODECS="avc1.640015,mp4a.40.2"' in rewritten  # attributes other than URI are left alone
    assert rewritten.endswith("\n")


def test_a_variant_playlist_carries_the_token_into_its_init_and_media_segments() -> None:
    rewritten = carry_token(VARIANT, "tok")
    assert '#EXT-X-MAP:URI="init.mp4?token=tok"' in rewritten
    assert "seg_00000.m4s?token=tok" in rewritten.splitlines()
    assert "seg_00001.m4s?token=tok" in rewritten.splitlines()
    assert "#EXTINF:2.000000," in rewritten.splitlines()


def test_a_uri_with_a_query_or_fragment_keeps_them() -> None:
    assert carry_token("a.m4s?v=2\n", "t") == "a.m4s?v=2&token=t\n"
    assert carry_token("storyboard.jpg#xywh=0,0,160,90", "t") == "storyboard.jpg?token=t#xywh=0,0,160,90"
