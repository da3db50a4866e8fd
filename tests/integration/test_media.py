"""PyAvProbe on real videos generated with PyAV, and on damaged ones."""

from __future__ import annotations

import random
from pathlib import Path

import av
import pytest

from tests.media import make_frame_bomb, make_long_mp4, make_mp4, make_webm, truncate
from vidplat.adapters.media.limits import MIB, MediaLimits
from vidplat.adapters.media.probe import PyAvFile, PyAvProbe
from vidplat.adapters.storage.local import LocalStorage
from vidplat.domain.ports import UnreadableMedia
from vidplat.domain.videos.model import MediaInfo


class OnPath:
    """The adapter's per-file calls on a path, as the storage's scratch copy hands it over."""

    def __init__(self, limits: MediaLimits | None = None) -> None:
        self.limits = limits or MediaLimits()

    async def probe(self, path: Path) -> MediaInfo:
        return await PyAvFile(path, self.limits).probe()

    async def thumbnail(self, path: Path, at_seconds: float) -> bytes:
        return await PyAvFile(path, self.limits).thumbnail(at_seconds)


probe = OnPath()


def noise(size: int) -> bytes:
    return random.Random(size).randbytes(size)  # seeded, so a failure can be replayed


def jpeg_size(data: bytes, tmp_path: Path) -> tuple[int, int]:
    path = tmp_path / "thumb.jpg"
    path.write_bytes(data)
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
    return frame.width, frame.height


async def test_mp4_facts_are_read(tmp_path: Path) -> None:
    info = await probe.probe(make_mp4(tmp_path / "a.mp4", seconds=1.0, width=64, height=48))
    assert info.duration_seconds == pytest.approx(1.0, abs=0.1)
    assert (info.width, info.height, info.video_codec, info.audio_codec) == (64, 48, "h264", None)
    assert (info.content_type, info.extension) == ("video/mp4", "mp4")


async def test_audio_track_is_reported(tmp_path: Path) -> None:
    info = await probe.probe(make_mp4(tmp_path / "a.mp4", audio=True))
    assert info.audio_codec == "aac"


async def test_webm_facts_are_read(tmp_path: Path) -> None:
    info = await probe.probe(make_webm(tmp_path / "a.webm", seconds=2.0, audio=True))
    assert info.duration_seconds == pytest.approx(2.0, abs=0.1)
    assert (info.video_codec, info.audio_codec) == ("vp8", "opus")
    assert (info.content_type, info.extension) == ("video/webm", "webm")


async def test_webm_without_duration_or_index_is_measured_from_its_packets(tmp_path: Path) -> None:
    path = make_webm(tmp_path / "a.webm", seconds=3.0, live=True)
    info = await probe.probe(path)
    assert info.duration_seconds == pytest.approx(3.0, abs=0.15)
    assert (await probe.thumbnail(path, 2.0)).startswith(b"\xff\xd8")


async def test_truncated_mp4_is_unreadable(tmp_path: Path) -> None:
    path = make_mp4(tmp_path / "a.mp4", seconds=2.0)
    truncate(path, path.stat().st_size // 2)
    with pytest.raises(UnreadableMedia):
        await probe.probe(path)


async def test_webm_cut_short_is_unreadable_although_its_header_is_intact(tmp_path: Path) -> None:
    path = make_webm(tmp_path / "a.webm", seconds=4.0)
    truncate(path, path.stat().st_size // 2)
    with pytest.raises(UnreadableMedia, match="truncated"):
        await probe.probe(path)


async def test_random_bytes_are_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(noise(10_000))
    with pytest.raises(UnreadableMedia):
        await probe.probe(path)


async def test_random_bytes_behind_a_valid_mp4_signature_are_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "fake.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + noise(10_000))
    with pytest.raises(UnreadableMedia):
        await probe.probe(path)


async def test_unreadable_message_does_not_leak_the_path(tmp_path: Path) -> None:
    path = tmp_path / "secret-dir-name.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    with pytest.raises(UnreadableMedia) as caught:
        await probe.probe(path)
    assert "secret-dir-name" not in str(caught.value)


async def test_thumbnail_is_a_jpeg_of_the_frame_size(tmp_path: Path) -> None:
    data = await probe.thumbnail(make_mp4(tmp_path / "a.mp4", width=64, height=48), 0.5)
    assert data.startswith(b"\xff\xd8")
    assert jpeg_size(data, tmp_path) == (64, 48)


async def test_wide_video_thumbnail_is_scaled_to_640_keeping_the_aspect(tmp_path: Path) -> None:
    data = await probe.thumbnail(make_mp4(tmp_path / "a.mp4", width=1280, height=720, seconds=0.3), 0.1)
    assert jpeg_size(data, tmp_path) == (640, 360)


async def test_thumbnail_past_the_end_uses_the_last_frame(tmp_path: Path) -> None:
    data = await probe.thumbnail(make_mp4(tmp_path / "a.mp4", seconds=0.5), 60.0)
    assert data.startswith(b"\xff\xd8")


async def test_thumbnail_of_random_bytes_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "noise.webm"
    path.write_bytes(b"\x1a\x45\xdf\xa3" + noise(5_000))
    with pytest.raises(UnreadableMedia):
        await probe.thumbnail(path, 0.0)


# --- untrusted input: the caps of MediaLimits ------------------------------------------------


@pytest.fixture(scope="module")
def frame_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~200 KB claiming two 8192x8192 frames: 67 Mpx each, about 300 MB to decode."""
    return make_frame_bomb(tmp_path_factory.mktemp("bomb") / "bomb.mp4")


async def test_frames_over_the_pixel_cap_are_refused_before_decoding(frame_bomb: Path) -> None:
    with pytest.raises(UnreadableMedia, match=r"frames are 8192x8192: more than the 35,389,440 pixels allowed"):
        await probe.probe(frame_bomb)
    with pytest.raises(UnreadableMedia, match="8192x8192"):
        await probe.thumbnail(frame_bomb, 0.0)


async def test_a_video_over_the_duration_cap_is_refused(tmp_path: Path) -> None:
    long = make_long_mp4(tmp_path / "long.mp4", hours=7)  # under 2 KB

    with pytest.raises(UnreadableMedia, match=r"lasts 25,201 s: longer than the 21,600 s allowed"):
        await probe.probe(long)
    assert (await OnPath(MediaLimits(max_duration_seconds=8 * 3600)).probe(long)).duration_seconds == 25201


async def test_the_memory_cap_stops_a_bomb_in_the_child_and_the_caller_carries_on(
    frame_bomb: Path, tmp_path: Path
) -> None:
    # With the pixel cap lifted only the memory cap stands: decoding the bomb needs about 300 MB
    # of address space, a small video about 135 MB.
    capped = OnPath(MediaLimits(max_pixels=10**9, max_memory_bytes=200 * MIB))
    small = make_mp4(tmp_path / "small.mp4")

    with pytest.raises(UnreadableMedia):
        await capped.probe(frame_bomb)
    assert (await capped.probe(small)).width == 64  # the cap leaves room for ordinary work
    uncapped = OnPath(MediaLimits(max_pixels=10**9))
    assert (await uncapped.probe(frame_bomb)).width == 8192  # so it was the memory cap that refused


async def test_a_child_starved_of_memory_fails_the_read_and_the_caller_carries_on(tmp_path: Path) -> None:
    # So little address space that the child fails wherever it first allocates: importing FFmpeg
    # (MemoryError) or opening the file (FFmpeg's ENOMEM); either way only the child fails.
    clip = make_mp4(tmp_path / "a.mp4")

    with pytest.raises(UnreadableMedia):
        await OnPath(MediaLimits(max_memory_bytes=32 * MIB)).probe(clip)
    assert (await probe.probe(clip)).width == 64


async def test_the_probe_opens_a_stored_object_through_the_storage_scratch_copy(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    await storage.put_bytes("orgs/1/v", make_mp4(tmp_path / "a.mp4", seconds=1.0, width=64, height=48).read_bytes())
    async with PyAvProbe(storage.scratch).open("orgs/1/v") as media:
        assert (await media.probe()).width == 64
        assert (await media.thumbnail(0.5)).startswith(b"\xff\xd8")
