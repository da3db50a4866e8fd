"""Reading an upload in a child process whose address space is capped, so a memory bomb kills only the child.

The parent runs `python -m vidplat.adapters.media.sandbox`; the child caps itself with
RLIMIT_AS before it imports FFmpeg, does one probe or thumbnail, and answers on stdout.
"""

from __future__ import annotations

import asyncio
import base64
import json
import resource
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from vidplat.adapters.media.limits import MIB, MediaLimits
from vidplat.domain.ports import UnreadableMedia

_UNREADABLE = 3  # the child's exit status for a file it refused; its message is on stdout


async def run_sandboxed(task: str, path: Path, limits: MediaLimits, at_seconds: float = 0.0) -> Any:
    """The child's answer to `task` ("probe" or "thumbnail"); UnreadableMedia for any refusal or crash."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        task,
        str(path),
        str(at_seconds),
        json.dumps(asdict(limits)),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await process.communicate()
    except BaseException:  # cancelled: the child must not outlive the job that wanted it
        process.kill()
        await process.wait()
        raise
    status = await process.wait()
    if status == 0:
        return json.loads(out)
    if status == _UNREADABLE:
        raise UnreadableMedia(json.loads(out)["error"])
    if b"MemoryError" in err or status < 0:  # refused an allocation, or killed by a signal
        raise UnreadableMedia(
            f"Reading the video needed more than the {limits.max_memory_bytes // MIB:,} MiB of memory allowed."
        )
    raise UnreadableMedia("The video could not be read.")


def _main(task: str, path: str, at_seconds: str, limits_json: str) -> int:
    limits = MediaLimits(**json.loads(limits_json))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    except (ValueError, OSError) as exc:  # e.g. macOS, which has no RLIMIT_AS to speak of: a dev box
        print(f"media sandbox: no memory cap on this system ({exc})", file=sys.stderr)  # noqa: T201
    # Imported under the cap: FFmpeg and whatever it allocates count against it.
    from vidplat.adapters.media.probe import read_media_info
    from vidplat.adapters.media.thumbnail import render_thumbnail

    try:
        if task == "probe":
            answer: Any = asdict(read_media_info(Path(path), limits))
        else:
            jpeg = render_thumbnail(Path(path), float(at_seconds), limits)
            answer = base64.b64encode(jpeg).decode("ascii")
    except UnreadableMedia as exc:
        sys.stdout.write(json.dumps({"error": str(exc)}))
        return _UNREADABLE
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:]))
