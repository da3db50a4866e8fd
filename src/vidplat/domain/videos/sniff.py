"""Recognise video containers by their magic bytes, before any media tool touches them."""

from __future__ import annotations

SNIFF_BYTES = 64
"""How much of the head of a file `sniff_container` needs."""

_FTYP_END = 12  # box size (4), "ftyp" (4), major brand (4)
_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE = b"\x42\x82"
# QuickTime files written before ISO-BMFF may start with any top-level atom, not `ftyp`.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"})
# `ftyp` also opens still images (HEIF/AVIF) and audio-only files (M4A/M4B): not videos.
_NON_VIDEO_BRANDS = frozenset({b"heic", b"heix", b"mif1", b"msf1", b"avif", b"M4A ", b"M4B ", b"M4P "})


def sniff_container(head: bytes) -> str | None:
    """The container kind ("mp4", "mov", "webm" or "mkv") the bytes start with, or None."""
    if head.startswith(_EBML_MAGIC):
        return _ebml_kind(head)
    box_type = head[4:8]
    if box_type == b"ftyp":
        brand = head[8:_FTYP_END]
        if len(head) < _FTYP_END or brand in _NON_VIDEO_BRANDS:
            return None
        return "mov" if brand == b"qt  " else "mp4"
    if box_type in _QUICKTIME_ATOMS:
        return "mov"
    return None


def _ebml_kind(head: bytes) -> str:
    """WebM when the EBML header's DocType says so; any other EBML document is Matroska."""
    at = head.find(_EBML_DOCTYPE)
    if at >= 0 and at + 2 < len(head):
        size_byte = head[at + 2]
        # The DocType size is an EBML varint; doc types are short, so it fits the 1-byte form.
        if size_byte & 0x80:
            size = size_byte & 0x7F
            if head[at + 3 : at + 3 + size] == b"webm":
                return "webm"
    return "mkv"
