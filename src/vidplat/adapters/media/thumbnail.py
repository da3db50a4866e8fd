"""JPEG thumbnails with FFmpeg's own mjpeg encoder (no image library needed)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from av.container import InputContainer
from av.video.frame import VideoFrame
from av.video.reformatter import ColorRange
from av.video.stream import VideoStream

from vidplat.adapters.media.containers import MEDIA_ERRORS, container_kind, open_input, seek_before, video_stream
from vidplat.adapters.media.limits import MediaLimits
from vidplat.domain.ports import UnreadableMedia

MAX_WIDTH = 640
# mjpeg quantiser bounds (2 = best, 31 = worst): small files that still look clean.
_QMIN, _QMAX = 2, 5


def render_thumbnail(path: Path, at_seconds: float, limits: MediaLimits) -> bytes:
    kind = container_kind(path)
    with open_input(path, kind) as container:
        try:
            frame = _frame_near(container, video_stream(container, limits), max(0.0, at_seconds))
            return _jpeg(frame)
        except MemoryError:
            raise  # not damage: the sandbox reports the memory limit
        except MEDIA_ERRORS as exc:
            raise UnreadableMedia("No picture could be extracted from the video.") from exc


def _frame_near(container: InputContainer, stream: VideoStream, at_seconds: float) -> VideoFrame:
    """The first frame at or after at_seconds, or the last one when the video is shorter."""
    seek_before(container, at_seconds)  # then decode forward from that keyframe
    chosen: VideoFrame | None = None
    for frame in container.decode(stream):
        chosen = frame
        # The stub types `time` as float, but it is None exactly when `pts` is.
        if frame.pts is not None and frame.time >= at_seconds:
            break
    if chosen is None:
        raise UnreadableMedia("No picture could be extracted from the video.")
    return chosen


def _jpeg(frame: VideoFrame) -> bytes:
    width, height = _scaled_size(frame.width, frame.height)
    # Full-range yuv420p is what JPEG expects; the older yuvj420p alias is deprecated in FFmpeg.
    image = frame.reformat(width, height, format="yuv420p", dst_color_range=ColorRange.JPEG)
    image.pts = 0
    encoder = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.color_range = ColorRange.JPEG
    encoder.time_base = Fraction(1, 1)
    encoder.qmin, encoder.qmax = _QMIN, _QMAX
    packets = encoder.encode(image) + encoder.encode(None)
    return b"".join(bytes(packet) for packet in packets)


def _scaled_size(width: int, height: int) -> tuple[int, int]:
    """At most MAX_WIDTH wide, same aspect ratio, even sides (4:2:0 chroma needs them)."""
    target_width = min(width, MAX_WIDTH) // 2 * 2
    target_height = round(height * target_width / width / 2) * 2
    return max(2, target_width), max(2, target_height)
