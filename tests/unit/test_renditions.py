"""The rendition ladder: no upscaling, even sizes, portrait by the short side, tiny sources."""

from __future__ import annotations

import pytest

from vidplat.domain.videos.renditions import AUDIO_BITRATE, STANDARD_LADDER, select_renditions


def sizes(width: int, height: int) -> list[tuple[str, int, int]]:
    return [(r.name, r.width, r.height) for r in select_renditions(width, height)]


def test_a_1080p_source_gets_the_whole_ladder() -> None:
    assert sizes(1920, 1080) == [
        ("240p", 426, 240),
        ("360p", 640, 360),
        ("480p", 852, 480),
        ("720p", 1280, 720),
        ("1080p", 1920, 1080),
    ]


def test_the_ladder_stops_at_the_source_height() -> None:
    assert [name for name, _, _ in sizes(1280, 720)] == ["240p", "360p", "480p", "720p"]
    assert [name for name, _, _ in sizes(1000, 700)] == ["240p", "360p", "480p"]
    assert [name for name, _, _ in sizes(3840, 2160)][-1] == "1080p"


def test_a_source_exactly_at_the_lowest_rung_gets_that_rung() -> None:
    assert sizes(320, 240) == [("240p", 320, 240)]


def test_odd_sizes_become_even_and_never_grow() -> None:
    for width, height in [(1281, 721), (641, 361), (853, 481), (999, 777), (1921, 1081)]:
        for rendition in select_renditions(width, height):
            assert rendition.width % 2 == 0
            assert rendition.height % 2 == 0
            assert rendition.width <= width
            assert rendition.height <= height


def test_a_portrait_clip_is_ranked_by_its_short_side() -> None:
    assert sizes(1080, 1920) == [
        ("240p", 240, 426),
        ("360p", 360, 640),
        ("480p", 480, 852),
        ("720p", 720, 1280),
        ("1080p", 1080, 1920),
    ]


def test_portrait_and_landscape_rungs_cost_the_same_bitrate() -> None:
    landscape = [r.max_bitrate for r in select_renditions(1920, 1080)]
    assert [r.max_bitrate for r in select_renditions(1080, 1920)] == landscape


def test_a_source_below_240p_gets_one_rendition_at_its_own_even_size() -> None:
    (only,) = select_renditions(161, 99)
    assert (only.name, only.width, only.height) == ("98p", 160, 98)
    assert 0 < only.max_bitrate < STANDARD_LADDER[0].max_bitrate


def test_a_tiny_portrait_source_keeps_its_orientation() -> None:
    assert sizes(48, 64) == [("48p", 48, 64)]


def test_bitrates_are_capped_per_rung_and_rise_with_size() -> None:
    renditions = select_renditions(1920, 1080)
    caps = [r.max_bitrate for r in renditions]
    assert caps == sorted(caps)
    assert len(set(caps)) == len(caps)
    assert all(r.bandwidth == r.max_bitrate + AUDIO_BITRATE for r in renditions)


def test_an_empty_picture_is_refused() -> None:
    with pytest.raises(ValueError, match="0x10"):
        select_renditions(0, 10)
