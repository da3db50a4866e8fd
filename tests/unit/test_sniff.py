"""Container sniffing by magic bytes, on real generated files and on impostors."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.media import make_mp4, make_webm
from vidplat.domain.videos.sniff import SNIFF_BYTES, sniff_container


def head(path: Path) -> bytes:
    return path.read_bytes()[:SNIFF_BYTES]


def test_generated_mp4_is_recognised(tmp_path: Path) -> None:
    assert sniff_container(head(make_mp4(tmp_path / "a.mp4"))) == "mp4"


def test_generated_webm_is_recognised(tmp_path: Path) -> None:
    assert sniff_container(head(make_webm(tmp_path / "a.webm"))) == "webm"


def test_quicktime_brand_is_mov() -> None:
    assert sniff_container(b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ") == "mov"


@pytest.mark.parametrize("atom", [b"moov", b"mdat", b"wide", b"free"])
def test_legacy_quicktime_without_ftyp_is_mov(atom: bytes) -> None:
    assert sniff_container(b"\x00\x00\x00\x08" + atom + bytes(16)) == "mov"


def test_matroska_doctype_is_mkv() -> None:
    assert sniff_container(b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska") == "mkv"


def test_ebml_without_a_readable_doctype_is_mkv() -> None:
    assert sniff_container(b"\x1a\x45\xdf\xa3") == "mkv"


@pytest.mark.parametrize("brand", [b"heic", b"avif", b"mif1", b"M4A "])
def test_still_images_and_audio_in_iso_boxes_are_not_videos(brand: bytes) -> None:
    assert sniff_container(b"\x00\x00\x00\x18ftyp" + brand + bytes(12)) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00\x00\x00\x18ftyp",  # cut before the brand
        b"\x89PNG\r\n\x1a\n" + bytes(56),
        b"%PDF-1.7\n" + bytes(55),
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"#EXTM3U\n#EXT-X-VERSION:3\n",
        b"GIF89a",
    ],
)
def test_other_formats_are_not_recognised(data: bytes) -> None:
    assert sniff_container(data) is None


@pytest.mark.parametrize("seed", range(20))
def test_random_bytes_are_not_recognised(seed: int) -> None:
    # Seeded: truly random bytes could hit a 4-byte magic number by (rare) chance.
    assert sniff_container(random.Random(seed).randbytes(SNIFF_BYTES)) is None
