"""Transcoder on PyAV, run in a child Python process under resource limits.

Decoding untrusted media is the riskiest thing vidplat does and the heaviest: in a child it cannot
stall the server's event loop or take the server down with it, and the kernel enforces its memory
and CPU caps (setrlimit). The child speaks JSON lines on stdout: progress, then a result or an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vidplat.adapters.media.limits import MIB, MediaLimits
from vidplat.domain.ports import TranscodeFailed
from vidplat.domain.videos.renditions import Rendition, Rung, TranscodeResult

CHILD = "vidplat.adapters.media.transcode_child"


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscodeLimits(MediaLimits):
    """The upload caps, plus what one transcode may use; past them it fails with a reason."""

    max_memory_bytes: int = 4096 * MIB  # five encoders and their lookahead need more than a probe
    cpu_seconds: int = 6 * 3600
    niceness: int = 10  # added to the child's nice value, so the server's requests are served first


# Transcodes one process runs at once; the rest wait their turn. Each already uses every core, and
# each may take its memory cap: an embedded server handed ten uploads must not start ten.
TRANSCODES_AT_ONCE = 2


class SubprocessTranscoder:
    def __init__(self, limits: TranscodeLimits | None = None, at_once: int = TRANSCODES_AT_ONCE) -> None:
        self.limits = limits or TranscodeLimits()
        self._turns = asyncio.Semaphore(at_once)

    async def transcode(
        self,
        source: Path,
        out_dir: Path,
        ladder: Sequence[Rung],
        on_progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> TranscodeResult:
        async with self._turns:
            return await self._transcode(source, out_dir, ladder, on_progress)

    async def _transcode(
        self,
        source: Path,
        out_dir: Path,
        ladder: Sequence[Rung],
        on_progress: Callable[[int], Awaitable[None]] | None,
    ) -> TranscodeResult:
        # What a killed earlier attempt left behind goes first: a retry starts clean.
        await asyncio.to_thread(shutil.rmtree, out_dir, True)
        job = {
            "source": str(source),
            "out_dir": str(out_dir),
            "ladder": [dataclasses.asdict(rung) for rung in ladder],
            "limits": dataclasses.asdict(self.limits),
        }
        # Fewer malloc arenas: each thread's 64 MiB arena reservation counts against RLIMIT_AS.
        env = {**os.environ, "MALLOC_ARENA_MAX": "2"}
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", CHILD, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env
        )
        try:
            return await _follow(child, json.dumps(job).encode(), on_progress)
        except BaseException:
            if child.returncode is None:
                child.kill()
                await child.wait()
            await asyncio.to_thread(shutil.rmtree, out_dir, True)
            raise


async def _follow(
    child: asyncio.subprocess.Process, job: bytes, on_progress: Callable[[int], Awaitable[None]] | None
) -> TranscodeResult:
    if child.stdin is None or child.stdout is None:
        raise RuntimeError("the transcoder child has no pipes")
    child.stdin.write(job)
    await child.stdin.drain()
    child.stdin.close()
    outcome: dict[str, Any] = {}
    async for line in child.stdout:
        message = json.loads(line)
        if "progress" in message:
            if on_progress is not None:
                await on_progress(message["progress"])
        else:
            outcome = message
    code = await child.wait()
    if "result" in outcome and code == 0:
        return _result(outcome["result"])
    if "error" in outcome:
        raise TranscodeFailed(outcome["error"])
    if code == -signal.SIGXCPU:
        raise TranscodeFailed("The transcode ran out of its CPU time.")
    raise TranscodeFailed("The transcoder stopped unexpectedly.")


def _result(data: dict[str, Any]) -> TranscodeResult:
    return TranscodeResult(
        renditions=tuple(Rendition(**rendition) for rendition in data["renditions"]),
        duration_seconds=data["duration_seconds"],
        has_audio=data["has_audio"],
    )
