"""Opening uploads with PyAV safely: only the demuxers we serve, chosen by magic bytes."""

from __future__ import annotations

from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from vidplat.adapters.media.limits import MediaLimits
from vidplat.domain.ports import UnreadableMedia
from vidplat.domain.videos.sniff import SNIFF_BYTES, sniff_container

# kind -> (FFmpeg demuxer, content type, file extension)
FORMATS = {
    "mp4": ("mov", "video/mp4", "mp4"),
    "mov": ("mov", "video/quicktime", "mov"),
    "webm": ("matroska", "video/webm", "webm"),
    "mkv": ("matroska", "video/x-matroska", "mkv"),
}

# The errors PyAV raises for bad input: FFmpeg failures (which also subclass ValueError,
# OSError, EOFError, ...) and a stream that ends before the part we asked for.
MEDIA_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, StopIteration)


def container_kind(path: Path) -> str:
    """The sniffed kind of the file; UnreadableMedia unless it is a container we serve."""
    with path.open("rb") as file:
        kind = sniff_container(file.read(SNIFF_BYTES))
    if kind is None:
        raise UnreadableMedia("The file is not an MP4, MOV, WebM or Matroska video.")
    return kind


def open_input(path: Path, kind: str) -> InputContainer:
    # Forcing the demuxer stops FFmpeg from probing the bytes as any of its other formats:
    # playlists and concat scripts among them could make it read other local files.
    try:
        return av.open(str(path), "r", format=FORMATS[kind][0])
    except MEDIA_ERRORS as exc:
        raise UnreadableMedia("The file is not a readable video container.") from exc


def video_stream(container: InputContainer, limits: MediaLimits) -> VideoStream:
    """The first video stream, its declared frame size within the limits, its decoder held to them too."""
    if not container.streams.video:
        raise UnreadableMedia("The file has no video stream.")
    stream = container.streams.video[0]
    context = stream.codec_context
    limits.check_frame(context.width, context.height)
    # FFmpeg's own guard, for frames whose size the headers did not tell: refused before allocation.
    context.options = {**context.options, "max_pixels": str(limits.max_pixels)}
    # One decoding thread: a probe decodes a frame or a few, and the memory a file needs then
    # depends on the file alone, not on the machine's cores (each thread holds frames of its own).
    context.thread_count = 1
    return stream


def seek_before(container: InputContainer, seconds: float) -> None:
    """Move to the keyframe at or before `seconds`; stay put when the file has no usable index."""
    try:
        container.seek(int(seconds * av.time_base), backward=True)
    except av.FFmpegError:
        # Reading on from here still reaches `seconds`, just less directly.
        return
