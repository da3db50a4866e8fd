"""S10: the 30 s 1080p source to the full ladder, vidplat's transcoder against the ffmpeg CLI doing the same.

Same machine, same run, alternating: the same renditions, preset, CRF, VBV caps, GOP, forced keyframes
every 2 s, per-rendition AAC, scaler and fMP4 HLS muxer, and the same niceness; ffmpeg in one process.
Peak RSS is sampled from /proc for each side's process tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import av

from bench import media
from bench.config import Profile
from bench.procs import descendants, rss_kib
from bench.results import Row, median
from vidplat.adapters.media.hls import INIT_SEGMENT, PLAYLIST, SCALER, x264_options
from vidplat.adapters.media.transcode import SubprocessTranscoder, TranscodeLimits
from vidplat.domain.videos.renditions import SEGMENT_SECONDS, STANDARD_LADDER, select_renditions

TARGET = 0.9
SECONDS = 30
_SAMPLE_EVERY = 0.05


def ffmpeg_binary() -> str:
    """The Debian ffmpeg CLI, installed on first use when the bench runs as root (as on the reference machines)."""
    found = shutil.which("ffmpeg")
    if found is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "ffmpeg"], check=True, stdout=subprocess.DEVNULL)
        found = shutil.which("ffmpeg")
    if found is None:
        raise RuntimeError("ffmpeg is not installed: apt-get install -y ffmpeg")
    return found


async def s10(profile: Profile, say: Callable[[str], None]) -> list[Row]:
    ffmpeg = ffmpeg_binary()
    source = media.hd_clip(SECONDS)
    with tempfile.TemporaryDirectory(prefix="vidplat-s10-") as scratch:
        ours, theirs, our_rss, their_rss = await _measure(profile.runs, source, ffmpeg, Path(scratch), say)
    speed, reference = SECONDS / median(ours), SECONDS / median(theirs)
    return [
        Row(
            scenario="S10",
            what="transcode 1080p to 5 renditions",
            value=speed,
            unit="s video/s",
            reference=f"ffmpeg CLI {reference:.2f}",
            ratio=speed / reference,
            target=f">= {TARGET:.0%} of ffmpeg",
            passed=speed / reference >= TARGET,
            runs=[SECONDS / s for s in ours],
            note=f"wall s: ours {median(ours):.1f}, ffmpeg {median(theirs):.1f}",
        ),
        Row(
            scenario="S10",
            what="peak transcoder RSS",
            value=our_rss / 1024,
            unit="MiB",
            reference=f"ffmpeg CLI {their_rss / 1024:.0f} MiB",
            ratio=our_rss / their_rss if their_rss else None,
        ),
    ]


async def _measure(
    runs: int, source: Path, ffmpeg: str, run_dir: Path, say: Callable[[str], None]
) -> tuple[list[float], list[float], int, int]:
    """Wall seconds of each side per run, alternating, and each side's peak RSS (KiB)."""
    limits = TranscodeLimits()
    ours: list[float] = []
    theirs: list[float] = []
    our_rss, their_rss = 0, 0
    for run in range(runs):
        out = run_dir / f"s10-vidplat-{run}"
        seconds, rss = await _timed(SubprocessTranscoder(limits).transcode(source, out, STANDARD_LADDER))
        ours.append(seconds)
        our_rss = max(our_rss, rss)
        _check(out)
        shutil.rmtree(out)
        out = run_dir / f"s10-ffmpeg-{run}"
        argv = ["nice", "-n", str(limits.niceness), *ffmpeg_command(ffmpeg, source, out)]
        seconds, rss = await _timed(_run(argv))
        theirs.append(seconds)
        their_rss = max(their_rss, rss)
        _check(out)
        shutil.rmtree(out)
        say(f"S10 run {run + 1}: vidplat {ours[-1]:.1f} s, ffmpeg {theirs[-1]:.1f} s")
    return ours, theirs, our_rss, their_rss


def ffmpeg_command(ffmpeg: str, source: Path, out: Path) -> list[str]:
    """One ffmpeg process: decode once, split, scale and encode every rung into its own HLS rendition."""
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        width, height, rate = stream.codec_context.width, stream.codec_context.height, stream.average_rate
    renditions = select_renditions(width, height)
    gop = str(round(rate or 30) * SEGMENT_SECONDS)
    labels = [f"v{index}" for index in range(len(renditions))]
    graph = f"[0:v]split={len(renditions)}" + "".join(f"[s{label}]" for label in labels) + ";"
    graph += ";".join(
        f"[s{label}]scale={r.width}:{r.height}:flags={SCALER.lower()}[{label}]"
        for label, r in zip(labels, renditions, strict=True)
    )
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(source), "-filter_complex", graph]
    for label, rendition in zip(labels, renditions, strict=True):
        directory = out / rendition.name
        directory.mkdir(parents=True)
        argv += ["-map", f"[{label}]", "-map", "0:a?", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
        for key, value in x264_options(rendition, gop).items():
            argv += [f"-{key}", value]
        argv += ["-force_key_frames", f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"]
        argv += ["-c:a", "aac", "-b:a", "128k", "-ac", "2", "-ar", "48000"]
        argv += ["-f", "hls", "-hls_time", str(SEGMENT_SECONDS), "-hls_segment_type", "fmp4"]
        argv += ["-hls_playlist_type", "vod", "-hls_flags", "independent_segments"]
        argv += ["-hls_fmp4_init_filename", INIT_SEGMENT, "-hls_segment_filename", str(directory / "seg_%05d.m4s")]
        argv.append(str(directory / PLAYLIST))
    return argv


async def _run(argv: list[str]) -> None:
    process = await asyncio.create_subprocess_exec(*argv)
    if await process.wait() != 0:
        raise RuntimeError(f"{argv[0]} failed with {process.returncode}")


async def _timed(work: Awaitable[object]) -> tuple[float, int]:
    """Wall seconds of the work, and the peak summed RSS (KiB) of the processes it started meanwhile."""
    peak = 0
    before = set(descendants(os.getpid()))

    async def sample() -> None:
        nonlocal peak
        while True:
            started = [pid for pid in descendants(os.getpid()) if pid not in before]
            peak = max(peak, sum(rss_kib(pid) or 0 for pid in started))
            await asyncio.sleep(_SAMPLE_EVERY)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    try:
        await work
        return time.perf_counter() - started, peak
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler


def _check(out: Path) -> None:
    """Both sides must have written the whole ladder, or the comparison means nothing."""
    playlists = sorted(path.parent.name for path in out.glob(f"*/{PLAYLIST}"))
    if playlists != ["1080p", "240p", "360p", "480p", "720p"]:
        raise RuntimeError(f"{out.name} wrote {playlists}")
