"""/docs (Swagger UI) and /docs/scalar, served entirely from vidplat: they work with no internet access.

The pinned dist files are put into `docs_ui/vendor/` when the package is built (hatch_build.py);
the pages, their start-up scripts and the favicon are vidplat's own, and name no other host.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.exceptions import ServiceUnavailableException
from litestar.openapi.plugins import ScalarRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from vidplat.entrypoints.http.security import NO_TOKEN, PUBLIC

DOCS_UI = Path(__file__).parent / "docs_ui"
ASSETS = "/docs/assets"
_VENDOR = DOCS_UI / "vendor"
_FAVICON = f'<link rel="icon" type="image/png" href="{ASSETS}/vendor/swagger-ui/favicon-32x32.png">'


def _page(title: str, head: str, body: str) -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
{_FAVICON}
{head}
</head>
<body>
{body}
</body>
</html>
""".encode()


def _require(vendor: Path, *files: str) -> None:
    missing = [name for name in files if not (vendor / name).is_file()]
    if missing:
        # Only a build without npm gets here (hatch_build.py says so at build time too).
        raise ServiceUnavailableException(
            detail="The API docs assets were not installed (npm was missing when vidplat was built): "
            "install npm, then run `uv sync --reinstall-package vidplat`. /docs/openapi.json works."
        )


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI at /docs, loading the document from /docs/openapi.json."""

    def __init__(self, vendor: Path = _VENDOR) -> None:
        super().__init__(path="/", favicon=_FAVICON)
        self.vendor = vendor

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        _require(self.vendor, "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css")
        return _page(
            "vidplat API",
            f'<link rel="stylesheet" href="{ASSETS}/vendor/swagger-ui/swagger-ui.css">',
            f'<div id="swagger-ui"></div>\n<script src="{ASSETS}/vendor/swagger-ui/swagger-ui-bundle.js"></script>\n'
            f'<script src="{ASSETS}/swagger-init.js"></script>',
        )

    @staticmethod
    def render_oauth2_redirect() -> bytes:
        return _page(
            "vidplat API: OAuth2 redirect",
            "",
            '<p id="note" hidden>This page finishes a sign-in started from <a href="/docs">/docs</a>. '
            "vidplat's API takes bearer tokens: log in with <code>POST /api/v1/auth/login</code> and paste the "
            "<code>access_token</code> under <em>Authorize</em>.</p>\n"
            f'<script src="{ASSETS}/oauth2-redirect.js"></script>',
        )


class ScalarPage(ScalarRenderPlugin):
    """Scalar at /docs/scalar."""

    def __init__(self, vendor: Path = _VENDOR) -> None:
        super().__init__(path="/scalar", favicon=_FAVICON)
        self.vendor = vendor

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        _require(self.vendor, "scalar/standalone.js")
        return _page(
            "vidplat API",
            "",
            f'<div id="scalar"></div>\n<script src="{ASSETS}/vendor/scalar/standalone.js"></script>\n'
            f'<script src="{ASSETS}/scalar-init.js"></script>',
        )


def docs_assets() -> Router:
    """The pages' scripts, styles and favicon, under /docs/assets."""
    return create_static_files_router(path=ASSETS, directories=[DOCS_UI], include_in_schema=False)


@get("/", include_in_schema=False, sync_to_thread=False, opt={PUBLIC: True}, security=NO_TOKEN)
def root() -> dict[str, str]:
    """Where to start: the root is not part of the API."""
    return {"name": "vidplat", "docs": "/docs", "openapi": "/docs/openapi.json", "health": "/health"}
