"""SubprocessTranscoder on real generated sources: the HLS it writes plays, in step, from every segment."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path

import av
import m3u8  # type: ignore[import-untyped]
import pytest

from tests.media import make_mkv, make_mp4, make_webm, rotate_mp4, truncate
from vidplat.adapters.media.transcode import SubprocessTranscoder, TranscodeLimits
from vidplat.domain.ports import TranscodeFailed
from vidplat.domain.videos.renditions import STANDARD_LADDER, TranscodeResult

transcoder = SubprocessTranscoder()


async def transcode(source: Path, out_dir: Path, transcoder: SubprocessTranscoder = transcoder) -> TranscodeResult:
    return await transcoder.transcode(source, out_dir, STANDARD_LADDER)


def stream_of(out_dir: Path, name: str, segments: slice = slice(None)) -> io.BytesIO:
    """The rendition's init segment followed by its media segments: one fragmented MP4."""
    playlist = m3u8.load(str(out_dir / name / "index.m3u8"))
    data = (out_dir / name / playlist.segment_map[0].uri).read_bytes()
    for segment in playlist.segments[segments]:
        data += (out_dir / name / segment.uri).read_bytes()
    return io.BytesIO(data)


def durations(out_dir: Path, name: str) -> list[float]:
    return [segment.duration for segment in m3u8.load(str(out_dir / name / "index.m3u8")).segments]


def assert_plays(out_dir: Path, result: TranscodeResult, *, frames: int, audio: bool) -> None:
    """Every rendition is VOD fMP4 HLS, decodes whole at its size, and starts each segment on a keyframe."""
    master = m3u8.load(str(out_dir / "master.m3u8"))
    assert [p.uri for p in master.playlists] == [f"{r.name}/index.m3u8" for r in result.renditions]
    for playlist, rendition in zip(master.playlists, result.renditions, strict=True):
        info = playlist.stream_info
        assert info.resolution == (rendition.width, rendition.height)
        assert info.bandwidth == rendition.bandwidth
        assert info.codecs.startswith("avc1.")
        assert info.codecs.endswith(",mp4a.40.2") == audio
        text = (out_dir / rendition.name / "index.m3u8").read_text()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text
        assert '#EXT-X-MAP:URI="init.mp4"' in text
        with av.open(stream_of(out_dir, rendition.name), "r") as container:
            assert bool(container.streams.audio) == audio
            decoded = list(container.decode(video=0))
        assert len(decoded) == frames
        assert {(f.width, f.height, f.rotation) for f in decoded} == {(rendition.width, rendition.height, 0)}
        starts = []
        for index in range(len(durations(out_dir, rendition.name))):
            with av.open(stream_of(out_dir, rendition.name, slice(index, index + 1)), "r") as segment:
                first = next(segment.demux(video=0))
            assert first.is_keyframe
            assert first.pts is not None
            starts.append(float(first.pts * first.time_base))
        # The muxer shifts the timeline by the B-frame delay; from there, a segment every 2 s.
        assert starts == pytest.approx([starts[0] + 2.0 * index for index in range(len(starts))], abs=0.01)
    # Aligned: every rendition cuts its segments at the same instants.
    assert len({tuple(durations(out_dir, r.name)) for r in result.renditions}) == 1


async def test_h264_mp4_becomes_aligned_two_second_renditions(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=5, width=640, height=360, fps=10, audio=True)
    reported: list[int] = []

    async def on_progress(percent: int) -> None:
        reported.append(percent)

    result = await transcoder.transcode(source, tmp_path / "out", STANDARD_LADDER, on_progress)

    assert [(r.name, r.width, r.height) for r in result.renditions] == [("240p", 426, 240), ("360p", 640, 360)]
    assert result.has_audio
    assert result.duration_seconds == pytest.approx(5.0, abs=0.1)
    assert_plays(tmp_path / "out", result, frames=50, audio=True)
    assert durations(tmp_path / "out", "240p") == pytest.approx([2.0, 2.0, 1.0], abs=0.05)
    assert reported == sorted(set(reported))
    assert reported[-1] == 100
    assert len(reported) <= 100


async def test_audio_and_video_start_together(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=3, width=320, height=240, fps=10, audio=True)
    await transcode(source, tmp_path / "out")
    with av.open(stream_of(tmp_path / "out", "240p"), "r") as container:
        starts = {}
        for packet in container.demux():
            if packet.pts is not None and packet.stream.type not in starts:
                starts[packet.stream.type] = float(packet.pts * packet.time_base)
    assert starts["audio"] == pytest.approx(starts["video"], abs=0.05)


async def test_vp9_webm_is_transcoded(tmp_path: Path) -> None:
    source = make_webm(tmp_path / "in.webm", seconds=3, width=320, height=240, fps=10, audio=True, codec="libvpx-vp9")
    result = await transcode(source, tmp_path / "out")
    assert [r.name for r in result.renditions] == ["240p"]
    assert_plays(tmp_path / "out", result, frames=30, audio=True)


async def test_mpeg4_part_2_in_matroska_is_transcoded(tmp_path: Path) -> None:
    source = make_mkv(tmp_path / "in.mkv", seconds=3, width=320, height=240, fps=10)
    result = await transcode(source, tmp_path / "out")
    assert_plays(tmp_path / "out", result, frames=30, audio=True)


async def test_a_rotated_phone_clip_is_turned_upright(tmp_path: Path) -> None:
    source = rotate_mp4(make_mp4(tmp_path / "in.mp4", seconds=2, width=320, height=240, fps=10), 90)
    result = await transcode(source, tmp_path / "out")
    assert [(r.name, r.width, r.height) for r in result.renditions] == [("240p", 240, 320)]
    assert_plays(tmp_path / "out", result, frames=20, audio=False)


async def test_a_video_without_audio_gets_video_only_renditions(tmp_path: Path) -> None:
    result = await transcode(make_mp4(tmp_path / "in.mp4", seconds=2, width=320, height=240), tmp_path / "out")
    assert not result.has_audio
    assert_plays(tmp_path / "out", result, frames=20, audio=False)


async def test_a_one_frame_video_is_one_segment(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=0.1, width=64, height=48, fps=10)
    result = await transcode(source, tmp_path / "out")
    assert [(r.name, r.width, r.height) for r in result.renditions] == [("48p", 64, 48)]
    assert_plays(tmp_path / "out", result, frames=1, audio=False)
    assert len(durations(tmp_path / "out", "48p")) == 1


async def test_the_storyboard_tiles_the_video_into_one_sprite(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=5, width=320, height=240, fps=10)
    await transcode(source, tmp_path / "out")
    track = (tmp_path / "out" / "storyboard.vtt").read_text().split("\n\n")
    assert track[0] == "WEBVTT"
    assert track[1].splitlines() == ["00:00:00.000 --> 00:00:01.000", "storyboard.jpg#xywh=0,0,160,120"]
    assert track[5].splitlines() == ["00:00:04.000 --> 00:00:05.000", "storyboard.jpg#xywh=640,0,160,120"]
    with av.open(str(tmp_path / "out" / "storyboard.jpg")) as sprite:
        picture = next(sprite.decode(video=0))
    assert (picture.width, picture.height) == (5 * 160, 120)


async def test_a_truncated_mp4_fails_with_a_reason_and_leaves_nothing(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=2, width=320, height=240)
    truncate(source, source.stat().st_size // 2)
    with pytest.raises(TranscodeFailed, match="not a readable video"):
        await transcode(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_a_matroska_cut_short_fails_as_truncated(tmp_path: Path) -> None:
    source = make_mkv(tmp_path / "in.mkv", seconds=6, width=320, height=240)
    truncate(source, source.stat().st_size // 3)
    with pytest.raises(TranscodeFailed, match="truncated"):
        await transcode(source, tmp_path / "out")
    assert not (tmp_path / "out").exists()


async def test_a_file_that_is_not_video_fails(tmp_path: Path) -> None:
    source = tmp_path / "in.mp4"
    source.write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(4000))
    with pytest.raises(TranscodeFailed, match="not a readable video"):
        await transcode(source, tmp_path / "out")


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        (TranscodeLimits(max_duration_seconds=1), "longer than the 1 s allowed"),
        (TranscodeLimits(max_pixels=320 * 239), "more than the 76,480 pixels allowed"),
        (TranscodeLimits(max_memory_bytes=160 * 1024**2), "memory|unexpectedly"),
    ],
)
async def test_caps_fail_the_transcode_with_a_reason(tmp_path: Path, limits: TranscodeLimits, reason: str) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=2, width=320, height=240)
    with pytest.raises(TranscodeFailed, match=reason):
        await transcode(source, tmp_path / "out", SubprocessTranscoder(limits))
    assert not (tmp_path / "out").exists()


def transcoder_children() -> list[int]:
    """Our own child processes that run the transcoder."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid() and b"transcode_child" in command:
            found.append(int(entry.name))
    return found


async def test_a_cancelled_transcode_stops_its_child_and_leaves_nothing(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=4, width=320, height=240)
    reporting = asyncio.Event()

    async def hold(percent: int) -> None:
        reporting.set()
        await asyncio.Event().wait()  # the transcode stays here, mid-way, until it is cancelled

    job = asyncio.create_task(transcoder.transcode(source, tmp_path / "out", STANDARD_LADDER, hold))
    await reporting.wait()
    assert len(transcoder_children()) == 1
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert transcoder_children() == []
    assert not (tmp_path / "out").exists()


async def test_a_retry_replaces_what_a_killed_attempt_left(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=2, width=320, height=240)
    leftover = tmp_path / "out" / "240p"
    leftover.mkdir(parents=True)
    (leftover / "seg_00007.m4s").write_bytes(b"half a segment")
    result = await transcode(source, tmp_path / "out")
    assert not (leftover / "seg_00007.m4s").exists()
    assert_plays(tmp_path / "out", result, frames=20, audio=False)


async def test_only_so_many_transcodes_run_at_once_and_the_next_starts_when_one_ends(tmp_path: Path) -> None:
    source = make_mp4(tmp_path / "in.mp4", seconds=4, width=320, height=240)
    transcoder = SubprocessTranscoder(at_once=1)
    started, release = asyncio.Event(), asyncio.Event()
    order: list[str] = []

    async def first_holds(percent: int) -> None:
        if not started.is_set():
            order.append("first")
            started.set()
        await release.wait()

    async def second_reports(percent: int) -> None:
        order.append("second" if release.is_set() else "second, while the first was running")

    first = asyncio.create_task(transcoder.transcode(source, tmp_path / "a", STANDARD_LADDER, first_holds))
    await started.wait()
    second = asyncio.create_task(transcoder.transcode(source, tmp_path / "b", STANDARD_LADDER, second_reports))
    # Long enough for a second child to start and report, were it allowed to (it never is: no flake).
    await asyncio.sleep(3)
    assert order == ["first"]
    release.set()
    await asyncio.gather(first, second)
    assert set(order) == {"first", "second"}
