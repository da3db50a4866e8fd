"""Bench media, generated once and cached outside the repository (never downloaded)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
from av.container import OutputContainer

from bench.config import MB, MIB

# Bump when the generators change, so stale cached files are not reused.
_VERSION = "v1"
_BOX = 200  # side of the bright square moving across S10's source


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = Path(os.environ.get("BENCH_CACHE_DIR") or root / "vidplat-bench")
    path.mkdir(parents=True, exist_ok=True)
    return path


def noise_video(megabytes: int) -> Path:
    """An H.264 MP4 of random noise of about `megabytes` MB: incompressible, so the size is all bitrate."""
    path = cache_dir() / f"noise-{megabytes}MB-{_VERSION}.mp4"
    if not path.exists():
        print(f"generating {path} (once; cached for later runs)", flush=True)
        _atomically(path, lambda temp: _encode_noise(temp, megabytes * MB))
    return path


def small_video() -> Path:
    """A 2-second 320x240 H.264 MP4 of a few tens of KB: the rest of the catalog."""
    path = cache_dir() / f"small-{_VERSION}.mp4"
    if not path.exists():
        _atomically(path, _encode_gradient)
    return path


def hd_clip(seconds: int = 30) -> Path:
    """A 1080p30 H.264 + AAC stereo MP4 of moving stripes and a tone: S10's transcoding source."""
    path = cache_dir() / f"hd-{seconds}s-{_VERSION}.mp4"
    if not path.exists():
        print(f"generating {path} (once; cached for later runs)", flush=True)
        _atomically(path, lambda temp: _encode_hd(temp, seconds))
    return path


def vp9_clip(seconds: int = 20) -> Path:
    """A 854x480 VP9 + Opus WebM of moving stripes: a source no browser's MSE takes as is, three rungs."""
    path = cache_dir() / f"vp9-{seconds}s-{_VERSION}.webm"
    if not path.exists():
        print(f"generating {path} (once; cached for later runs)", flush=True)
        _atomically(path, lambda temp: _encode_vp9(temp, seconds))
    return path


def sparse_upload(mebibytes: int) -> Path:
    """A file that passes vidplat's container sniffing (an MP4 `ftyp` box) followed by a sparse hole.

    Processing may reject it afterwards; S7 measures the upload, and a hole costs no disk space.
    """
    path = cache_dir() / f"upload-{mebibytes}MiB-{_VERSION}.mp4"
    if not path.exists():

        def write(temp: Path) -> None:
            with temp.open("wb") as file:
                file.write(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
                file.truncate(mebibytes * MIB)

        _atomically(path, write)
    return path


def padded_video(mebibytes: int) -> Path:
    """The small video grown to `mebibytes` by a trailing `free` box (a sparse hole players skip).

    Unlike sparse_upload it processes to a ready video, so S12 can show a resumed upload end ready.
    """
    path = cache_dir() / f"padded-{mebibytes}MiB-{_VERSION}.mp4"
    if not path.exists():
        clip = small_video().read_bytes()

        def write(temp: Path) -> None:
            padding = mebibytes * MIB - len(clip)
            with temp.open("wb") as file:
                file.write(clip + padding.to_bytes(4, "big") + b"free")
                file.truncate(mebibytes * MIB)

        _atomically(path, write)
    return path


def _atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temporary name and rename, so an interrupted generation is never cached."""
    temp = path.with_suffix(f".part{path.suffix}")
    try:
        write(temp)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def _encode_noise(path: Path, target_bytes: int, width: int = 1280, height: int = 720, fps: int = 30) -> None:
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps, options={"preset": "ultrafast", "qp": "8", "g": str(fps)})
        stream = _video(stream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        written, index = 0, 0
        while written < target_bytes:
            frame = av.VideoFrame(width, height, "yuv420p")
            for plane in frame.planes:
                plane.update(os.urandom(plane.buffer_size))
            frame.pts = index
            index += 1
            for packet in stream.encode(frame):
                written += packet.size
                output.mux(packet)
        output.mux(stream.encode(None))


def _encode_gradient(path: Path, width: int = 320, height: int = 240, fps: int = 10, seconds: int = 2) -> None:
    with av.open(str(path), "w", format="mp4") as output:
        stream = output.add_stream("libx264", rate=fps)
        stream = _video(stream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(fps * seconds):
            frame = av.VideoFrame(width, height, "yuv420p")
            luma, *chroma = frame.planes
            luma.update(bytes((x * 3 + index * 8) % 256 for x in range(luma.line_size)) * height)
            for plane in chroma:
                plane.update(b"\x80" * plane.buffer_size)
            frame.pts = index
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))


def _encode_hd(path: Path, seconds: int, width: int = 1920, height: int = 1080, fps: int = 30) -> None:
    """Diagonal stripes sliding under a moving bright box: detail and motion for the encoder, cheap to draw."""
    with av.open(str(path), "w", format="mp4") as output:
        options = {"preset": "veryfast", "crf": "20", "g": str(2 * fps)}
        video = _video(output.add_stream("libx264", rate=fps, options=options))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = output.add_stream("aac", rate=48_000, layout="stereo")
        if not isinstance(audio, av.AudioStream):
            raise TypeError("expected an audio stream")
        _stripes(output, video, width, height, fps * seconds, box=True)
        _tone(output, audio, seconds, samples=1024)  # AAC's frame size


def _encode_vp9(path: Path, seconds: int, width: int = 854, height: int = 480, fps: int = 24) -> None:
    with av.open(str(path), "w", format="webm") as output:
        # Realtime and the fastest speed: the source's quality does not matter, its codec does.
        options = {"deadline": "realtime", "cpu-used": "8", "b": "1M", "g": str(2 * fps)}
        video = _video(output.add_stream("libvpx-vp9", rate=fps, options=options))
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = output.add_stream("libopus", rate=48_000, layout="stereo")
        if not isinstance(audio, av.AudioStream):
            raise TypeError("expected an audio stream")
        _stripes(output, video, width, height, fps * seconds, box=False)
        _tone(output, audio, seconds, samples=960)  # Opus's 20 ms frame


def _stripes(
    output: OutputContainer, video: av.VideoStream, width: int, height: int, frames: int, *, box: bool
) -> None:
    """Diagonal stripes sliding every frame (and, with `box`, a moving bright box), encoded to the end."""
    pattern = bytes((x * 7 // 3) % 256 for x in range(2 * width + 512))
    for index in range(frames):
        frame = av.VideoFrame(width, height, "yuv420p")
        luma, *chroma = frame.planes
        left, top = index * 12 % (width - _BOX), height // 3
        rows = []
        for y in range(height):
            row = pattern[(y + index * 5) % 256 :][: luma.line_size]
            if box and top <= y < top + _BOX:
                row = row[:left] + b"\xeb" * _BOX + row[left + _BOX :]
            rows.append(row)
        luma.update(b"".join(rows))
        for offset, plane in enumerate(chroma):
            plane.update(bytes([96 + 64 * offset + index % 32]) * plane.buffer_size)
        frame.pts = index
        output.mux(video.encode(frame))
    output.mux(video.encode(None))


def _tone(output: OutputContainer, audio: av.AudioStream, seconds: int, *, samples: int) -> None:
    """A buzz that changes every frame: s16 stereo samples from a cheap byte pattern."""
    for start in range(0, seconds * 48_000, samples):
        sound = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        sound.planes[0].update(bytes((start // samples * 37 + i) % 256 for i in range(sound.planes[0].buffer_size)))
        sound.sample_rate, sound.pts = 48_000, start
        output.mux(audio.encode(sound))
    output.mux(audio.encode(None))


def _video(stream: object) -> av.VideoStream:
    """The stubs type a stream whose codec is chosen at run time loosely; narrow it."""
    if not isinstance(stream, av.VideoStream):
        raise TypeError(f"expected a video stream, got {type(stream).__name__}")
    return stream
