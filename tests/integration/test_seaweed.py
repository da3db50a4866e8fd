"""S3Storage on a real S3 server (SeaweedFS): multipart uploads, ranged reads, presigned URLs, start-up checks."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.s3 import S3Service
from tests.seaweed import seaweed_s3
from vidplat.adapters.storage.s3 import StoreUnreachable
from vidplat.domain.errors import PayloadTooLarge

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Service]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed")) as service:
        yield service


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for at in range(0, len(data), size):
        yield data[at : at + size]


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def test_a_large_upload_goes_up_in_parts_and_reads_back_by_ranges(seaweed: S3Service, tmp_path: Path) -> None:
    storage = seaweed.storage(tmp_path)
    data = hashlib.sha256(b"seed").digest() * (30 * MIB // 32)  # 30 MiB: four 8 MiB parts
    assert await storage.write("orgs/1/big", chunks_of(data, 3 * MIB), max_bytes=len(data)) == len(data)

    head = await storage.head("orgs/1/big")
    assert head.size == len(data)
    assert head.etag is not None
    assert head.etag.strip('"').endswith("-4")  # a multipart object's ETag counts its parts
    assert await collect(storage.read("orgs/1/big", 17 * MIB - 3, MIB + 7)) == data[17 * MIB - 3 : 18 * MIB + 4]
    assert await collect(storage.read("orgs/1/big", len(data) - 5, 5)) == data[-5:]
    assert await storage.checksum("orgs/1/big") == hashlib.sha256(data).hexdigest()


async def test_an_oversized_or_broken_upload_leaves_nothing_on_the_server(seaweed: S3Service, tmp_path: Path) -> None:
    storage = seaweed.storage(tmp_path)
    with pytest.raises(PayloadTooLarge):
        await storage.write("orgs/1/a", chunks_of(b"x" * (20 * MIB), MIB), max_bytes=12 * MIB)

    async def broken() -> AsyncIterator[bytes]:
        yield b"y" * (17 * MIB)
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await storage.write("orgs/1/b", broken(), max_bytes=100 * MIB)
    assert [o.key async for o in storage.list("")] == []


async def test_a_presigned_url_serves_ranges_and_conditional_requests(seaweed: S3Service, tmp_path: Path) -> None:
    storage = seaweed.storage(tmp_path)
    await storage.put_bytes("orgs/1/v", b"0123456789")
    url = await storage.presign_get("orgs/1/v", timedelta(minutes=5))
    assert url is not None
    async with httpx.AsyncClient() as client:
        whole = await client.get(url)
        ranged = await client.get(url, headers={"Range": "bytes=-3"})
        cached = await client.get(url, headers={"If-None-Match": whole.headers["etag"]})
        unsigned = await client.get(url.split("?", 1)[0])
    assert (whole.status_code, whole.content) == (200, b"0123456789")
    assert (ranged.status_code, ranged.content, ranged.headers["content-range"]) == (206, b"789", "bytes 7-9/10")
    assert cached.status_code == 304
    assert unsigned.status_code == 403


async def test_move_and_delete_by_prefix_on_a_real_server(seaweed: S3Service, tmp_path: Path) -> None:
    storage = seaweed.storage(tmp_path)
    await storage.put_bytes("orgs/1/uploads/a", b"data")
    await storage.move("orgs/1/uploads/a", "orgs/1/videos/a")
    await storage.put_bytes("orgs/1/videos/a.jpg", b"jpeg")
    assert sorted([o.key async for o in storage.list("orgs/1/")]) == ["orgs/1/videos/a", "orgs/1/videos/a.jpg"]
    assert await storage.delete_prefix("orgs/1/") == 2
    assert [o async for o in storage.list("")] == []


async def test_wrong_credentials_and_a_missing_bucket_are_named_at_start_up(seaweed: S3Service, tmp_path: Path) -> None:
    await seaweed.storage(tmp_path).check()
    wrong = S3Service(endpoint=seaweed.endpoint, bucket=seaweed.bucket, access_key_id=seaweed.access_key_id)
    with pytest.raises(StoreUnreachable, match="refused the credentials"):
        await wrong.storage(tmp_path).check()
    missing = S3Service(
        endpoint=seaweed.endpoint,
        bucket="no-such-bucket",
        access_key_id=seaweed.access_key_id,
        secret_access_key=seaweed.secret_access_key,
    )
    with pytest.raises(StoreUnreachable, match="does not exist"):
        await missing.storage(tmp_path).check()
