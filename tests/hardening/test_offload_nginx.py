"""Offload mode through a real nginx answers every stream request exactly as the proxy mode does.

One embedded deployment, two apps over it: one sends the bytes itself (proxy mode, called in
process), the other answers with X-Accel-Redirect behind nginx, as deploy/nginx.conf sets it up
(served by uvicorn on a loopback port). The same requests go to both; status, body, validators
and range headers must agree, and nginx must really have sent the bytes where it can.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import httpx
import pytest

from tests.hardening.actors import Account, add_ready_video, add_user, sign_up
from tests.hardening.conftest import make_backend
from tests.hardening.report import record
from tests.hardening.servers import nginx_server
from tests.hardening.wiring import Backend, Wiring, build_app, serving
from tests.uvicorn_server import uvicorn_serving

LOCATION = "/_media/"
COMPARED = ("etag", "last-modified", "content-range", "content-length", "content-type", "accept-ranges")


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Backend:
    return make_backend(request, Wiring.EMBEDDED, tmp_path_factory.mktemp("offload"))


def _cases(etag: str, last_modified: str) -> dict[str, dict[str, str]]:
    earlier = format_datetime(parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True)
    ranged = {"Range": "bytes=100-199"}
    return {
        "plain": {},
        "range": ranged,
        "suffix range": {"Range": "bytes=-50"},
        "open range": {"Range": "bytes=1000-"},
        "if-range, same etag": {**ranged, "If-Range": etag},
        "if-range, other etag": {**ranged, "If-Range": '"someone-elses"'},
        "if-range, weak etag": {**ranged, "If-Range": f"W/{etag}"},
        "if-range, same date": {**ranged, "If-Range": last_modified},
        "if-range, earlier date": {**ranged, "If-Range": earlier},
        "if-range, garbage": {**ranged, "If-Range": "yesterday"},
        "several ranges": {"Range": "bytes=0-9,20-29"},
        "backwards range": {"Range": "bytes=50-10"},
        "unsatisfiable range": {"Range": "bytes=99999999-"},
        "if-none-match, same": {"If-None-Match": etag},
        "if-none-match, other": {"If-None-Match": '"other"'},
        "if-modified-since, same": {"If-Modified-Since": last_modified},
        "if-modified-since, earlier": {"If-Modified-Since": earlier},
        "if-match, same": {"If-Match": etag, **ranged},
        "if-match, other": {"If-Match": '"other"'},
        "if-unmodified-since, earlier": {"If-Unmodified-Since": earlier},
    }


# The answers nginx must send itself: those it judges exactly as vidplat does.
SENT_BY_NGINX = {"plain", "range", "suffix range", "open range", "if-range, same etag"}


def _shape(response: httpx.Response) -> tuple[Any, ...]:
    return (response.status_code, response.content, {name: response.headers.get(name) for name in COMPARED})


async def test_offloaded_answers_match_the_proxy_modes_validators_ranges_and_if_range(
    backend: Backend, sample_mp4: bytes
) -> None:
    async with serving(backend) as proxy:
        tenant = await sign_up(proxy.client)
        video = await add_ready_video(proxy.client, tenant, sample_mp4)
        member: Account = await add_user(proxy.client, tenant)
        path = f"/api/v1/videos/{video}/stream"
        reference = await proxy.client.get(path, headers=member.headers)
        assert reference.status_code == 200
        cases = _cases(reference.headers["etag"], reference.headers["last-modified"])

        offloading, _ = build_app(backend, env={"VIDPLAT_ACCEL_REDIRECT_PREFIX": LOCATION})
        sent_by_nginx, statuses = set(), set()
        async with uvicorn_serving(offloading) as upstream:
            with nginx_server(upstream=upstream, root=backend.media_dir, location=LOCATION) as nginx:
                async with httpx.AsyncClient(base_url=nginx.url, timeout=30) as client:
                    for name, extra in cases.items():
                        headers = {**member.headers, **extra}
                        direct = await proxy.client.get(path, headers=headers)
                        offloaded = await client.get(path, headers=headers)

                        assert _shape(offloaded) == _shape(direct), name
                        statuses.add(direct.status_code)
                        if offloaded.headers.get("x-sent-by-nginx") == "1":
                            sent_by_nginx.add(name)

    assert sent_by_nginx == SENT_BY_NGINX
    assert statuses == {200, 206, 304, 412, 416}
    record("offload", f"{len(cases)} stream requests through nginx answered as in proxy mode (200/206/304/412/416)")
