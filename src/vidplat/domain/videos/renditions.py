"""The rendition ladder: which H.264 sizes and bitrates a source becomes, and the transcoding caps.

Rungs are named and chosen by the picture's SHORT side as displayed (rotation applied), the way
players and sites name portrait video: a 1080x1920 phone clip is "1080p" and gets the same five
rungs, with the same pixel counts and bitrates, as a 1920x1080 one, only standing up. So
"capped at the source height" means capped at the short side: nothing is ever upscaled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

AUDIO_BITRATE = 128_000  # AAC stereo, the same in every rendition
SEGMENT_SECONDS = 2  # HLS segment length and keyframe interval, aligned across renditions


@dataclass(frozen=True, slots=True, kw_only=True)
class Rung:
    """One step of the ladder: the short side in pixels and the video bitrate cap (bits/s)."""

    short_side: int
    max_bitrate: int


STANDARD_LADDER: tuple[Rung, ...] = (
    Rung(short_side=240, max_bitrate=400_000),
    Rung(short_side=360, max_bitrate=800_000),
    Rung(short_side=480, max_bitrate=1_400_000),
    Rung(short_side=720, max_bitrate=2_800_000),
    Rung(short_side=1080, max_bitrate=5_000_000),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rendition:
    """A size to encode: even dimensions as displayed, and its video bitrate cap."""

    name: str
    width: int
    height: int
    max_bitrate: int

    @property
    def bandwidth(self) -> int:
        """The peak bits per second of the rendition's segments (HLS BANDWIDTH)."""
        return self.max_bitrate + AUDIO_BITRATE


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscodeResult:
    renditions: tuple[Rendition, ...]
    duration_seconds: float
    has_audio: bool


def select_renditions(width: int, height: int, ladder: Sequence[Rung] = STANDARD_LADDER) -> tuple[Rendition, ...]:
    """The renditions of a width x height picture (as displayed): every rung up to its short side.

    A picture smaller than the lowest rung gets one rendition at its own (even) size.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"no picture size {width}x{height}")
    short, long = min(width, height), max(width, height)
    fitting = [rung for rung in sorted(ladder, key=lambda r: r.short_side) if rung.short_side <= short]
    if not fitting:
        lowest = min(ladder, key=lambda r: r.short_side)
        # Bitrate in proportion to the pixels, from the lowest rung's.
        scale = (short * short) / (lowest.short_side * lowest.short_side)
        return (_rendition(width, height, _even(short), _even(long), max(50_000, round(lowest.max_bitrate * scale))),)
    return tuple(
        _rendition(width, height, rung.short_side, _even(long * rung.short_side / short), rung.max_bitrate)
        for rung in fitting
    )


def _rendition(width: int, height: int, short: int, long: int, bitrate: int) -> Rendition:
    portrait = height > width
    return Rendition(
        name=f"{short}p",
        width=short if portrait else long,
        height=long if portrait else short,
        max_bitrate=bitrate,
    )


def _even(size: float) -> int:
    """Rounded down to an even number of pixels (4:2:0 chroma needs them; down never upscales), at least 2."""
    return max(2, int(size) // 2 * 2)
