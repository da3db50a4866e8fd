"""The SAQ web monitor is mounted for operators only, behind HTTP Basic credentials."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.settings import Settings


def _settings(tmp_path: Path, redis_service: tuple[str, str], **extra: str) -> Settings:
    url, prefix = redis_service
    return Settings.from_env(
        {
            "VIDPLAT_DATA_DIR": str(tmp_path),
            "VIDPLAT_REDIS_URL": url,
            "VIDPLAT_REDIS_PREFIX": f"{prefix}:ops",
            "VIDPLAT_JWT_SECRET": "j" * 40,
            "VIDPLAT_PLAYBACK_SECRET": "p" * 40,
            **extra,
        }
    )


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
async def ops_client(tmp_path: Path, redis_service: tuple[str, str]) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    settings = _settings(tmp_path, redis_service, VIDPLAT_OPS_USER="ops", VIDPLAT_OPS_PASSWORD="s3cret-ops")
    async with AsyncTestClient(create_app(bootstrap(settings), run_schedules=False)) as client:
        yield client


async def test_monitor_refuses_requests_without_operator_credentials(ops_client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    for headers in ({}, _basic("ops", "wrong"), {"Authorization": "Bearer nope"}):
        response = await ops_client.get("/ops/queues/api/queues", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Basic")


async def test_monitor_shows_the_job_queue_to_operators(ops_client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    page = await ops_client.get("/ops/queues/", headers=_basic("ops", "s3cret-ops"))
    assert page.status_code == 200
    assert "<script" in page.text
    queues = await ops_client.get("/ops/queues/api/queues", headers=_basic("ops", "s3cret-ops"))
    assert queues.status_code == 200
    prefix = ops_client.app.state.container.settings.redis_prefix
    assert [q["name"] for q in queues.json()["queues"]] == [f"{prefix}:jobs"]
    script = await ops_client.get("/ops/queues/static/snabbdom.js.gz", headers=_basic("ops", "s3cret-ops"))
    assert script.status_code == 200
    assert "snabbdom" in script.text  # served gzip-encoded, decoded by the client


async def test_monitor_is_off_without_configured_credentials(tmp_path: Path, redis_service: tuple[str, str]) -> None:
    async with AsyncTestClient(
        create_app(bootstrap(_settings(tmp_path, redis_service)), run_schedules=False)
    ) as client:
        response = await client.get("/ops/queues/api/queues", headers=_basic("ops", "s3cret-ops"))
        assert response.status_code == 404
