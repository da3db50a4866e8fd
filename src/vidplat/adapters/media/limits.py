"""Caps on what an untrusted upload may make the media tools do: frame size, duration, memory."""

from __future__ import annotations

from dataclasses import dataclass

from vidplat.domain.ports import UnreadableMedia

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class MediaLimits:
    max_pixels: int = 8192 * 4320  # 8K: the largest frames any rendition is made from
    max_duration_seconds: int = 6 * 3600
    max_memory_bytes: int = 2048 * MIB  # address space of the process reading one upload

    def check_frame(self, width: int, height: int) -> None:
        if width * height > self.max_pixels:
            raise UnreadableMedia(
                f"The video's frames are {width}x{height}: more than the {self.max_pixels:,} pixels allowed."
            )

    def check_duration(self, seconds: float) -> None:
        if seconds > self.max_duration_seconds:
            raise UnreadableMedia(
                f"The video lasts {seconds:,.0f} s: longer than the {self.max_duration_seconds:,} s allowed."
            )
