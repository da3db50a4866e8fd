"""MediaProbe on PyAV, within MediaLimits. Each read runs in a child process (sandbox.py): FFmpeg
work is blocking and CPU-bound, and an upload is untrusted, so a bomb takes down only the child."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

from vidplat.adapters.media.containers import (
    FORMATS,
    MEDIA_ERRORS,
    container_kind,
    open_input,
    seek_before,
    video_stream,
)
from vidplat.adapters.media.limits import MediaLimits
from vidplat.adapters.media.sandbox import run_sandboxed
from vidplat.domain.ports import UnreadableMedia
from vidplat.domain.videos.model import MediaInfo

# How short the video data may fall of the declared duration before the file counts as truncated
# (audio may legitimately run a little longer than the picture).
_MIN_SLACK_SECONDS = 1.0
_SLACK_RATIO = 0.05


Scratch = Callable[[str], AbstractAsyncContextManager[Path]]


@dataclass(frozen=True, slots=True)
class PyAvProbe:
    """Opens stored objects through the storage adapter's scratch copy: FFmpeg needs a seekable file."""

    scratch: Scratch
    limits: MediaLimits = field(default_factory=MediaLimits)

    @contextlib.asynccontextmanager
    async def open(self, key: str) -> AsyncIterator[PyAvFile]:
        async with self.scratch(key) as path:
            yield PyAvFile(path, self.limits)


@dataclass(frozen=True, slots=True)
class PyAvFile:
    path: Path
    limits: MediaLimits = field(default_factory=MediaLimits)

    async def probe(self) -> MediaInfo:
        return MediaInfo(**await run_sandboxed("probe", self.path, self.limits))

    async def thumbnail(self, at_seconds: float) -> bytes:
        return base64.b64decode(await run_sandboxed("thumbnail", self.path, self.limits, at_seconds))


def read_media_info(path: Path, limits: MediaLimits) -> MediaInfo:
    kind = container_kind(path)
    with open_input(path, kind) as container:
        try:
            return _inspect(container, kind, limits)
        except MemoryError:
            raise  # not damage: the sandbox reports the memory limit
        except MEDIA_ERRORS as exc:
            raise UnreadableMedia("The video data is damaged or incomplete.") from exc


def _inspect(container: InputContainer, kind: str, limits: MediaLimits) -> MediaInfo:
    stream = video_stream(container, limits)
    first = next(container.decode(stream), None)
    if first is None or first.width <= 0 or first.height <= 0:
        raise UnreadableMedia("The video stream has no decodable picture.")
    limits.check_frame(first.width, first.height)
    declared = _declared_duration(container, stream)
    if declared is not None:
        limits.check_duration(declared)  # before reading to its end
    data_end = _video_data_end(container, stream, declared)
    if data_end is None or (declared is not None and data_end < declared - _slack(declared)):
        raise UnreadableMedia("The file is truncated: its video data ends early.")
    limits.check_duration(data_end)
    audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
    _, content_type, extension = FORMATS[kind]
    return MediaInfo(
        duration_seconds=round(declared if declared is not None else data_end, 3),
        width=first.width,
        height=first.height,
        video_codec=stream.codec_context.name,
        audio_codec=audio,
        content_type=content_type,
        extension=extension,
    )


def _declared_duration(container: InputContainer, stream: VideoStream) -> float | None:
    """The duration in the headers: the video stream's own when known, else the container's."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _video_data_end(container: InputContainer, stream: VideoStream, declared: float | None) -> float | None:
    """When the last video packet ends, by demuxing (not decoding) from shortly before the declared end.

    A cut-off file still declares its full duration but its packets stop early. Without a usable
    index (a WebM missing its cues) the seek lands at the start and this reads the whole file:
    I/O only, no decoding.
    """
    start = max(0.0, (declared or 0.0) - _slack(declared or 0.0))
    seek_before(container, start)
    end: float | None = None
    for packet in container.demux(stream):
        stamp = packet.pts if packet.pts is not None else packet.dts
        if stamp is None:
            continue  # the empty packet that ends demuxing
        packet_end = float((stamp + (packet.duration or 0)) * packet.time_base)
        end = packet_end if end is None else max(end, packet_end)
    return end


def _slack(declared: float) -> float:
    return max(_MIN_SLACK_SECONDS, declared * _SLACK_RATIO)
