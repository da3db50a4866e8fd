"""What every scenario gets: the profile, the running services and the seeded world."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.config import Profile
from bench.procs import Processes
from bench.seed import World
from bench.services import Throwaway
from bench.stack import Stack


@dataclass(frozen=True, slots=True, kw_only=True)
class Bench:
    profile: Profile
    processes: Processes
    state: Throwaway
    stack: Stack
    nginx_port: int
    offload_port: int  # nginx proxying to a vidplat that hands stream bytes back to it
    world: World
    run_dir: Path
    small_video: Path
    big_video: Path
    upload_file: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.stack.port}"

    @property
    def stream_path(self) -> str:
        return f"/api/v1/videos/{self.world.videos[0]}/stream"

    @property
    def offload_base(self) -> str:
        return f"http://127.0.0.1:{self.offload_port}"

    @property
    def nginx_url(self) -> str:
        return f"http://127.0.0.1:{self.nginx_port}/{self.world.big_key}"
