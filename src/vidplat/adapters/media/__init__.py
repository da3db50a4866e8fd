"""MediaProbe on PyAV (FFmpeg): metadata and thumbnails."""

from vidplat.adapters.media.probe import PyAvProbe

__all__ = ["PyAvProbe"]
