"""Small real videos for tests, encoded with PyAV (never downloaded)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

_SAMPLE_RATE = 48_000
_AUDIO_FRAME = 1024


def make_mp4(
    path: Path, *, seconds: float = 1.0, width: int = 64, height: int = 48, fps: int = 10, audio: bool = False
) -> Path:
    """An H.264 (yuv420p) MP4, optionally with an AAC track."""
    return _encode(
        path, "mp4", "libx264", "aac" if audio else None, seconds=seconds, size=(width, height), fps=fps, options={}
    )


def make_webm(
    path: Path,
    *,
    seconds: float = 1.0,
    width: int = 64,
    height: int = 48,
    fps: int = 10,
    audio: bool = False,
    live: bool = False,
) -> Path:
    """A VP8 WebM, optionally with an Opus track; skips the test when this PyAV build lacks libvpx.

    live=True writes it as a browser's MediaRecorder does: no duration and no seek index.
    """
    if "libvpx" not in av.codecs_available:
        pytest.skip("this PyAV build has no libvpx encoder")
    options = {"live": "1"} if live else {}
    return _encode(
        path,
        "webm",
        "libvpx",
        "libopus" if audio else None,
        seconds=seconds,
        size=(width, height),
        fps=fps,
        options=options,
    )


def truncate(path: Path, keep_bytes: int) -> Path:
    """Cut the file after its first keep_bytes bytes, like an interrupted upload."""
    with path.open("r+b") as file:
        file.truncate(keep_bytes)
    return path


def _encode(
    path: Path,
    container_format: str,
    video_codec: str,
    audio_codec: str | None,
    *,
    seconds: float,
    size: tuple[int, int],
    fps: int,
    options: dict[str, str],
) -> Path:
    width, height = size
    with av.open(str(path), "w", format=container_format, options=options) as output:
        # Every stream must exist before the first packet is muxed (that writes the header).
        video = output.add_stream(video_codec, rate=fps)
        assert isinstance(video, av.VideoStream)  # the stubs type a codec chosen at run time as any stream
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = output.add_stream(audio_codec, rate=_SAMPLE_RATE, layout="mono") if audio_codec else None
        assert audio is None or isinstance(audio, av.AudioStream)
        for index in range(round(seconds * fps)):
            output.mux(video.encode(_picture(width, height, index)))
        output.mux(video.encode(None))
        if audio is not None:
            for start in range(0, round(seconds * _SAMPLE_RATE), _AUDIO_FRAME):
                output.mux(audio.encode(_silence(start)))
            output.mux(audio.encode(None))
    return path


def _picture(width: int, height: int, index: int) -> av.VideoFrame:
    """A luma gradient that slides with the frame index (grey chroma): real work for the encoder."""
    frame = av.VideoFrame(width, height, "yuv420p")
    luma, *chroma = frame.planes
    row = bytes((x * 3 + index * 8) % 256 for x in range(luma.line_size))
    luma.update(row * height)
    for plane in chroma:
        plane.update(b"\x80" * plane.buffer_size)
    frame.pts = index
    return frame


def _silence(start: int) -> av.AudioFrame:
    frame = av.AudioFrame(format="fltp", layout="mono", samples=_AUDIO_FRAME)
    for plane in frame.planes:
        plane.update(bytes(plane.buffer_size))
    frame.sample_rate, frame.pts = _SAMPLE_RATE, start
    return frame


def make_frame_bomb(path: Path, *, side: int = 8192) -> Path:
    """A decompression bomb: a ~200 KB H.264 MP4 of two flat side x side frames (67 Mpx at 8192)."""
    with av.open(str(path), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=10, options={"preset": "ultrafast", "threads": "1"})
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = side, side, "yuv420p"
        frame = av.VideoFrame(side, side, "yuv420p")
        for plane in frame.planes:
            plane.update(b"\x80" * plane.buffer_size)
        for index in range(2):
            frame.pts = index
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
    return path


def make_long_mp4(path: Path, *, hours: int) -> Path:
    """A tiny, valid MP4 that lasts `hours`: one 16x16 frame an hour (a timestamp bomb for the duration cap)."""
    with av.open(str(path), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 16, 16, "yuv420p"
        video.time_base = Fraction(1, 1)
        for hour in range(hours + 1):
            frame = _picture(16, 16, hour)
            frame.pts, frame.time_base = hour * 3600, Fraction(1, 1)
            output.mux(video.encode(frame))
        output.mux(video.encode(None))
    return path
