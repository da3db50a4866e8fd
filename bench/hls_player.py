"""The player page of `just hls-browser` and its hls.js: pinned, fetched with npm at run time, never committed."""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import shutil
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench import media

HLS_JS = "1.7.4"  # exact: the tarball's integrity below is npm's for this version
HLS_JS_INTEGRITY = "sha512-3GlxGdPvT2YHvQYOt+yOzT/DEior/qJVNIylHA77kgeoBTdQQqi70GwefNEUmHQeNGyjC8U62+bruqW/Tpm+tg=="
PAGE = Path(__file__).with_name("hls_page.html")


def site(directory: Path) -> Path:
    """The page as index.html beside hls.min.js, in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(PAGE, directory / "index.html")
    shutil.copy(hls_js(), directory / "hls.min.js")
    return directory


def hls_js() -> Path:
    """hls.min.js of the pinned release, fetched once with npm (integrity checked) into the bench cache."""
    path = media.cache_dir() / f"hls.js-{HLS_JS}.min.js"
    if path.exists():
        return path
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("npm is not installed: apt-get install -y npm")
    with tempfile.TemporaryDirectory() as scratch:
        subprocess.run(
            [npm, "pack", f"hls.js@{HLS_JS}", "--pack-destination", scratch, "--silent"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tarball = Path(scratch) / f"hls.js-{HLS_JS}.tgz"
        digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if digest != HLS_JS_INTEGRITY:
            raise SystemExit(f"hls.js {HLS_JS} tarball integrity {digest} is not the pinned {HLS_JS_INTEGRITY}")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/dist/hls.min.js")
            if member is None:
                raise SystemExit("the hls.js tarball has no dist/hls.min.js")
            temp = path.with_suffix(".part")
            temp.write_bytes(member.read())
            temp.replace(path)
    return path


@contextlib.contextmanager
def page_server(directory: Path, port: int) -> Iterator[str]:
    """The player page and hls.js over plain HTTP on loopback, from a thread; its base URL."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()
