"""Build hook: puts the pinned Swagger UI and Scalar dist files into the package, so /docs works offline.

No Python package ships both (Scalar is on npm only), and vendoring megabytes of minified
code into git is what we avoid: at build time (`uv sync`, `uv run`, `docker build`) npm
fetches the exact versions below, their integrity is checked, and the few files the docs
pages load are copied into `src/vidplat/entrypoints/http/docs_ui/vendor/` (git-ignored,
shipped in the wheel). npm's cache makes later builds work without the network.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

VENDOR = Path("src/vidplat/entrypoints/http/docs_ui/vendor")
# npm spec -> (the tarball's sha512 integrity, folder under vendor/, {file in the tarball: name under it})
PINNED: dict[str, tuple[str, str, dict[str, str]]] = {
    "swagger-ui-dist@5.35.0": (
        "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        "swagger-ui",
        {
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/oauth2-redirect.js": "oauth2-redirect.js",
            "package/favicon-32x32.png": "favicon-32x32.png",
            "package/LICENSE": "LICENSE",
        },
    ),
    "@scalar/api-reference@1.76.0": (
        "sha512-pjqwnzmA9YK3ZX+IZSICMsywm4qI6HLSngR2py9H6TvFApHHuJjkTAd+gFJfnqJDzJuro8k7ji6JCtJ2U+Byng==",
        "scalar",
        {"package/dist/browser/standalone.js": "standalone.js"},
    ),
}
STAMP = "pinned.json"


class DocsAssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "sdist":
            return
        vendor = Path(self.root) / VENDOR
        stamp = vendor / STAMP
        wanted = json.dumps(PINNED, sort_keys=True)
        if stamp.is_file() and stamp.read_text() == wanted:
            return
        if shutil.which("npm") is None:
            _without_docs("npm was not found (apt-get install -y npm)")
            return
        try:
            fetch(vendor)
        except (subprocess.CalledProcessError, OSError) as exc:
            # Offline with an empty npm cache: the product still builds, only its docs pages wait.
            _without_docs(f"npm could not fetch them ({exc})")
            return
        stamp.write_text(wanted)


def _without_docs(why: str) -> None:
    sys.stderr.write(
        f"vidplat build: the API docs assets are missing because {why}: /docs and /docs/scalar answer 503 "
        "until `uv sync --reinstall-package vidplat` runs with npm and the registry reachable\n"
    )


def fetch(vendor: Path) -> None:
    """Download each pinned tarball with npm, check its integrity, copy out the files the pages load."""
    shutil.rmtree(vendor, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        # Fixed arguments; npm from PATH, as any build tool is found.
        packed = subprocess.run(  # noqa: S603
            ["npm", "pack", "--json", "--pack-destination", tmp, *PINNED],  # noqa: S607
            check=True,
            capture_output=True,
            text=True,
        )
        tarballs = {
            f"{entry['name']}@{entry['version']}": Path(tmp) / entry["filename"] for entry in json.loads(packed.stdout)
        }
        for spec, (integrity, folder, files) in PINNED.items():
            tarball = tarballs[spec]
            digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if digest != integrity:
                raise RuntimeError(f"{spec}: integrity {digest} is not the pinned {integrity}")
            (vendor / folder).mkdir(parents=True, exist_ok=True)
            with tarfile.open(tarball) as archive:
                for member, name in files.items():
                    source = archive.extractfile(member)
                    if source is None:
                        raise RuntimeError(f"{spec}: {member} is missing from the tarball")
                    (vendor / folder / name).write_bytes(source.read())
