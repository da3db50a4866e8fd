"""Pictures as they are meant to be seen: the display matrix (phone rotation) applied to the pixels.

Renditions carry no rotation metadata of their own, because players honour it unevenly (MSE players
in particular ignore the track matrix); so the pixels are turned once, before scaling.
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

import av.filter
from av.video.frame import VideoFrame

# frame.rotation (degrees counter-clockwise, as FFmpeg's display matrix states it) -> the filters
# that undo it, as the ffmpeg CLI's autorotate chooses them.
_FILTERS: dict[int, list[tuple[str, str]]] = {
    90: [("transpose", "cclock")],
    -90: [("transpose", "clock")],
    270: [("transpose", "clock")],
    -270: [("transpose", "cclock")],
    180: [("hflip", ""), ("vflip", "")],
    -180: [("hflip", ""), ("vflip", "")],
}


class Upright:
    """Turns every frame by the rotation the first one declared; a no-op for unrotated video."""

    def __init__(self, first: VideoFrame, time_base: Fraction) -> None:
        filters = _FILTERS.get(round(first.rotation / 90) * 90, [])
        quarter = filters and filters[0][0] == "transpose"
        self.width, self.height = (first.height, first.width) if quarter else (first.width, first.height)
        self._graph: av.filter.Graph | None = None
        if filters:
            graph = av.filter.Graph()
            previous = graph.add_buffer(
                width=first.width, height=first.height, format=first.format, time_base=time_base
            )
            for name, argument in filters:
                node = graph.add(name, argument)
                previous.link_to(node)
                previous = node
            previous.link_to(graph.add("buffersink"))
            graph.configure()
            self._graph = graph

    def apply(self, frame: VideoFrame) -> Iterator[VideoFrame]:
        if self._graph is None:
            yield frame
            return
        self._graph.vpush(frame)
        while True:
            try:
                yield self._graph.vpull()
            except (BlockingIOError, EOFError):
                return
