"""The store failing under the API: full (507, nothing kept), unreachable (503, nothing half-written), back again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from moto.server import ThreadedMotoServer

from tests.api.helpers import Api, assert_problem
from tests.full_disk import FullDisk
from tests.s3 import BUCKET, S3Service
from vidplat.adapters.storage.local import LocalStorage


class RestartableMoto:
    """A moto S3 server that can be stopped and started again on the same port; its data lives in-process."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        self.host, self.port = self._server.get_host_and_port()
        httpx.put(f"http://{self.host}:{self.port}/{BUCKET}").raise_for_status()

    def stop(self) -> None:
        self._server.stop()

    def start(self) -> None:
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()


@pytest.fixture
def moto_server() -> Iterator[RestartableMoto]:
    server = RestartableMoto()
    yield server
    server.stop()


@pytest.fixture
def s3_service(moto_server: RestartableMoto) -> S3Service:
    """This module's store is its own, so stopping it disturbs no other test."""
    return S3Service(endpoint=f"http://{moto_server.host}:{moto_server.port}")


async def ready_states(api: Api) -> tuple[int, dict[str, str]]:
    response = await api.client.get("/ready")
    return response.status_code, response.json()["checks"]


@pytest.mark.s3_only
async def test_an_unreachable_store_answers_503_keeps_nothing_and_recovers_without_a_restart(
    api: Api, moto_server: RestartableMoto
) -> None:
    admin = await api.signup()
    video = await api.upload_ready(admin)
    kept = await api.stored_keys()

    moto_server.stop()
    try:
        assert_problem(await api.upload(admin, api.mp4()), 503, "service_unavailable")
        assert_problem(await api.stream(admin, video["id"]), 503, "service_unavailable")
        status, checks = await ready_states(api)
        assert (status, checks["storage"]) == (503, "down")
    finally:
        moto_server.start()

    assert (await ready_states(api))[0] == 200
    listed = (await api.client.get("/api/v1/videos", headers=admin.auth)).json()
    assert [item["id"] for item in listed["items"]] == [video["id"]]  # the failed upload left no row
    assert await api.stored_keys() == kept  # nor any bytes
    streamed = await api.stream(admin, video["id"], {"Range": "bytes=0-9"})
    assert streamed.status_code == 206
    await api.upload_ready(admin)


@pytest.mark.local_files
async def test_a_full_disk_answers_507_storage_full_keeps_nothing_and_ready_says_so(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await api.signup()
    storage = api.storage
    assert isinstance(storage, LocalStorage)
    open_temp = storage._open_temp

    def full_disk() -> tuple[Path, object]:
        temp, file = open_temp()
        return temp, FullDisk(file)

    monkeypatch.setattr(storage, "_open_temp", full_disk)
    monkeypatch.setattr("vidplat.adapters.storage.local.MIN_FREE_BYTES", 2**62)

    assert_problem(await api.upload(admin, api.mp4()), 507, "storage_full")
    listed = (await api.client.get("/api/v1/videos", headers=admin.auth)).json()
    assert listed["total"] == 0
    assert [path for path in api.container.settings.media_dir.rglob("*") if path.is_file()] == []  # .tmp too
    status, checks = await ready_states(api)
    assert (status, checks["storage"]) == (503, "full")
