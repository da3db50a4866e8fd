"""The API docs work offline: every page and asset comes from vidplat, and nothing names another host."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Request
from litestar.exceptions import ServiceUnavailableException

from tests.api.helpers import Api
from vidplat.entrypoints.http.docs import DOCS_UI, ScalarPage, SwaggerPage

PAGES = ("/docs", "/docs/scalar", "/docs/oauth2-redirect.html")
# Any absolute or protocol-relative URL: a page that names one would not work offline.
EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+", re.IGNORECASE)
REFERENCE = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
# URLs the pages' own start-up scripts load.
SCRIPT_URL = re.compile(r"""["'](/docs/[^"']+)["']""")


@pytest.mark.parametrize("page", PAGES)
async def test_docs_page_names_no_other_host_and_every_asset_it_references_is_served(api: Api, page: str) -> None:
    response = await api.client.get(page)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert not EXTERNAL.findall(response.text), page
    references = REFERENCE.findall(response.text)
    assert references, page
    for url in references:
        asset = await api.client.get(url)
        assert asset.status_code == 200, url
        assert asset.content, url
        if url.endswith(".js") and "/vendor/" not in url:
            for loaded in SCRIPT_URL.findall(asset.text):
                assert (await api.client.get(loaded)).status_code == 200, f"{url} loads {loaded}"


async def test_swagger_ui_and_scalar_load_their_pinned_bundles(api: Api) -> None:
    swagger = (await api.client.get("/docs")).text
    scalar = (await api.client.get("/docs/scalar")).text

    assert "/docs/assets/vendor/swagger-ui/swagger-ui-bundle.js" in swagger
    assert "/docs/assets/vendor/scalar/standalone.js" in scalar
    bundle = await api.client.get("/docs/assets/vendor/swagger-ui/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.content
    assert "javascript" in bundle.headers["content-type"]


async def test_scalar_is_told_to_fetch_no_fonts_and_use_no_proxy(api: Api) -> None:
    """Scalar's defaults load web fonts and route requests through its hosted proxy."""
    init = (await api.client.get("/docs/assets/scalar-init.js")).text

    assert "withDefaultFonts: false" in init
    assert 'proxyUrl: ""' in init
    assert "telemetry: false" in init


async def test_an_unknown_docs_asset_is_a_problem_404(api: Api) -> None:
    response = await api.client.get("/docs/assets/nothing.js")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_root_points_to_the_docs(api: Api) -> None:
    response = await api.client.get("/")

    assert response.status_code == 200
    assert response.json()["docs"] == "/docs"


@pytest.mark.parametrize("page", [SwaggerPage, ScalarPage])
def test_a_build_without_the_docs_assets_answers_503_saying_how_to_fix_it(
    page: type[SwaggerPage | ScalarPage], tmp_path: Path
) -> None:
    """hatch_build.py leaves them out when npm is missing or offline; the pages then say so."""
    with pytest.raises(ServiceUnavailableException, match="npm") as refused:
        page(vendor=tmp_path).render(cast(Request[Any, Any, Any], None), {})

    assert "uv sync --reinstall-package vidplat" in str(refused.value.detail)


def test_the_built_package_holds_the_pinned_assets() -> None:
    pinned = DOCS_UI / "vendor"
    for name in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "scalar/standalone.js"):
        assert (pinned / name).stat().st_size > 100_000, name
