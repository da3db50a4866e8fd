"""Scrubbing previews: small tiles taken every few seconds, one sprite JPEG and a WebVTT track with #xywh=."""

from __future__ import annotations

import math
from pathlib import Path

from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter

from vidplat.adapters.media.thumbnail import encode_jpeg
from vidplat.domain.videos.delivery import SPRITE, TRACK

MAX_TILES = 100
COLUMNS = 10
TILE_WIDTH = 160
_BLACK = (16, 128, 128)  # limited-range Y, Cb, Cr


class Storyboard:
    """Collects a tile every `interval` seconds of the (rotated) picture while it is decoded."""

    def __init__(self, duration: float | None, width: int, height: int) -> None:
        # Spread over the whole video, but never more than MAX_TILES tiles.
        self.interval = max(1, math.ceil(duration / MAX_TILES)) if duration else 2
        tile_width = min(TILE_WIDTH, width) // 2 * 2
        self.size = (max(2, tile_width), max(2, round(height * tile_width / width / 2) * 2))
        self.tiles: list[VideoFrame] = []
        self._scaler = VideoReformatter()  # not the frame's own: the renditions' threads must not share it

    def offer(self, frame: VideoFrame, at: float) -> None:
        if len(self.tiles) < MAX_TILES and at >= len(self.tiles) * self.interval:
            self.tiles.append(self._scaler.reformat(frame, *self.size, format="yuv420p"))

    def write(self, directory: Path, duration: float) -> None:
        """The sprite and its track; each cue spans its tile's interval, the last one up to `duration`."""
        if not self.tiles:
            return
        (directory / SPRITE).write_bytes(encode_jpeg(self._sprite()))
        width, height = self.size
        cues = ["WEBVTT", ""]
        last = len(self.tiles) - 1
        for index in range(len(self.tiles)):
            start = index * self.interval
            end = start + self.interval if index < last else max(duration, start + 0.5)
            x, y = index % COLUMNS * width, index // COLUMNS * height
            cues += [f"{_stamp(start)} --> {_stamp(end)}", f"{SPRITE}#xywh={x},{y},{width},{height}", ""]
        (directory / TRACK).write_text("\n".join(cues))

    def _sprite(self) -> VideoFrame:
        """The tiles in rows of COLUMNS, copied plane by plane (no image library needed)."""
        width, height = self.size
        columns = min(COLUMNS, len(self.tiles))
        rows = math.ceil(len(self.tiles) / COLUMNS)
        sprite = VideoFrame(columns * width, rows * height, "yuv420p")
        for plane_index, plane in enumerate(sprite.planes):
            shift = 0 if plane_index == 0 else 1  # the chroma planes are half size both ways
            tile_w, tile_h = width >> shift, height >> shift
            pixels = bytearray([_BLACK[plane_index]]) * plane.buffer_size
            for index, tile in enumerate(self.tiles):
                source = memoryview(bytes(tile.planes[plane_index]))
                stride = tile.planes[plane_index].line_size
                left, top = index % COLUMNS * tile_w, index // COLUMNS * tile_h
                for row in range(tile_h):
                    at = (top + row) * plane.line_size + left
                    pixels[at : at + tile_w] = source[row * stride : row * stride + tile_w]
            plane.update(bytes(pixels))
        return sprite


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"
