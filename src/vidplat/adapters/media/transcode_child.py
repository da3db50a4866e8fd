"""`python -m vidplat.adapters.media.transcode_child`: one transcode, the job as JSON on stdin."""

from __future__ import annotations

import dataclasses
import json
import os
import resource
import sys
import traceback
from pathlib import Path

from vidplat.adapters.media.pipeline import transcode_to_hls
from vidplat.adapters.media.transcode import TranscodeLimits
from vidplat.domain.ports import TranscodeFailed
from vidplat.domain.videos.renditions import Rung


def main() -> int:
    job = json.load(sys.stdin)
    limits = TranscodeLimits(**job["limits"])
    # After the imports, so the limits bound the media work, not the interpreter's start.
    resource.setrlimit(resource.RLIMIT_AS, (limits.max_memory_bytes, limits.max_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    os.nice(limits.niceness)  # the server's requests go first on a shared machine
    try:
        result = transcode_to_hls(
            Path(job["source"]),
            Path(job["out_dir"]),
            [Rung(**rung) for rung in job["ladder"]],
            limits,
            lambda percent: _say({"progress": percent}),
        )
    except TranscodeFailed as exc:
        return _fail(str(exc))
    except MemoryError:
        return _fail("The transcode ran out of memory.")
    except Exception:
        traceback.print_exc()
        return _fail("The transcoder failed unexpectedly.")
    _say({"result": dataclasses.asdict(result)})
    return 0


def _say(message: object) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _fail(reason: str) -> int:
    _say({"error": reason})
    return 1


if __name__ == "__main__":
    sys.exit(main())
