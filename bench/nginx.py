"""nginx (Debian's nginx-light) serving the media directory: the practical limit for bytes off disk."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from string import Template

from bench.config import SERVE_WORKERS
from bench.procs import Processes, free_port
from bench.stack import OFFLOAD_LOCATION

TEMPLATE = Path(__file__).with_name("nginx.conf.template")


def nginx_binary() -> str:
    # Debian installs it in /usr/sbin, which is not on an ordinary user's PATH.
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}{os.pathsep}/usr/sbin")
    if found is None:
        raise RuntimeError("nginx is not installed: apt-get install -y nginx-light")
    return found


def start_nginx(processes: Processes, run_dir: Path, root: Path, offload_upstream: int) -> tuple[int, int]:
    """Start nginx on free loopback ports: the files under root, and a proxy to the offloading vidplat.

    Returns (the static port, the proxy port).
    """
    prefix = run_dir / "nginx"
    prefix.mkdir()
    port, proxy_port = free_port(), free_port()
    config = Template(TEMPLATE.read_text()).substitute(
        # As root, the workers would drop to `nobody`, who cannot enter the run's private directory.
        user="user root;" if os.geteuid() == 0 else "",
        workers=SERVE_WORKERS,  # as many workers as vidplat gets: the same two cores
        prefix=prefix,
        port=port,
        root=root,
        proxy_port=proxy_port,
        upstream=offload_upstream,
        location=OFFLOAD_LOCATION,
    )
    conf = prefix / "nginx.conf"
    conf.write_text(config)
    argv = [nginx_binary(), "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)]
    processes.start("nginx", argv, env=os.environ, cwd=prefix)
    return port, proxy_port
