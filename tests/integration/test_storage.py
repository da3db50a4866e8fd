"""The Storage port's contract on both adapters: local files and S3 (moto)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.s3 import S3Service
from vidplat.adapters.storage.local import LocalStorage
from vidplat.adapters.storage.s3 import S3Storage, StoreUnreachable
from vidplat.domain.errors import PayloadTooLarge, Unavailable

MIB = 1024 * 1024
Store = LocalStorage | S3Storage


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


@pytest.fixture(params=["file", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "file":
        return LocalStorage(tmp_path / "media")
    service: S3Service = request.getfixturevalue("s3_service")
    return service.storage(tmp_path / "scratch")


async def test_a_streamed_write_is_stored_whole_and_its_size_returned(storage: Store) -> None:
    assert await storage.write("orgs/1/a", stream(b"hello ", b"wor", b"ld"), max_bytes=100) == 11
    assert await collect(storage.read("orgs/1/a", 0, 11)) == b"hello world"


async def test_a_large_write_goes_up_in_parts_and_reads_back_exactly(storage: Store) -> None:
    data = bytes(range(256)) * (4 * 4096 * 5)  # 20 MiB: several multipart parts on S3
    chunks = [data[at : at + 3 * MIB] for at in range(0, len(data), 3 * MIB)]
    assert await storage.write("orgs/1/big", stream(*chunks), max_bytes=len(data)) == len(data)
    assert await storage.checksum("orgs/1/big") == hashlib.sha256(data).hexdigest()
    assert await collect(storage.read("orgs/1/big", 12 * MIB + 5, MIB)) == data[12 * MIB + 5 : 13 * MIB + 5]


async def test_an_oversized_write_keeps_nothing(storage: Store) -> None:
    with pytest.raises(PayloadTooLarge):
        await storage.write("orgs/1/a", stream(b"x" * (6 * MIB), b"y" * (6 * MIB)), max_bytes=10 * MIB)
    assert [o async for o in storage.list("")] == []


async def test_a_write_whose_source_fails_midway_keeps_nothing_and_the_old_object_stays(storage: Store) -> None:
    await storage.put_bytes("orgs/1/a", b"old")

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (9 * MIB)
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await storage.write("orgs/1/a", broken(), max_bytes=100 * MIB)
    assert await collect(storage.read("orgs/1/a", 0, 3)) == b"old"
    assert [o.key async for o in storage.list("")] == ["orgs/1/a"]


async def test_head_describes_the_object_and_missing_keys_raise_file_not_found(storage: Store) -> None:
    await storage.put_bytes("orgs/1/a", b"abc")
    head = await storage.head("orgs/1/a")
    assert (head.key, head.size) == ("orgs/1/a", 3)
    assert head.etag
    assert head.last_modified.tzinfo is not None
    assert await storage.exists("orgs/1/a")
    assert not await storage.exists("orgs/1/b")
    with pytest.raises(FileNotFoundError):
        await storage.head("orgs/1/b")
    with pytest.raises(FileNotFoundError):
        await collect(storage.read("orgs/1/b", 0, 1))


async def test_ranged_reads_return_exactly_the_range(storage: Store) -> None:
    await storage.put_bytes("k/v", b"0123456789")
    assert await collect(storage.read("k/v", 2, 7)) == b"2345678"
    assert await collect(storage.read("k/v", 9, 1)) == b"9"
    assert await collect(storage.read("k/v", 0, 10)) == b"0123456789"


async def test_move_publishes_under_the_new_key_and_removes_the_old(storage: Store) -> None:
    await storage.put_bytes("orgs/1/uploads/a", b"data")
    await storage.move("orgs/1/uploads/a", "orgs/1/videos/a")
    assert not await storage.exists("orgs/1/uploads/a")
    assert await collect(storage.read("orgs/1/videos/a", 0, 4)) == b"data"


async def test_list_and_delete_by_prefix_touch_only_that_prefix(storage: Store) -> None:
    for key in ("orgs/1/a", "orgs/1/b/c", "orgs/2/a"):
        await storage.put_bytes(key, b"x")
    assert sorted([o.key async for o in storage.list("orgs/1/")]) == ["orgs/1/a", "orgs/1/b/c"]
    assert await storage.delete_prefix("orgs/1/") == 2
    assert [o.key async for o in storage.list("")] == ["orgs/2/a"]
    await storage.delete("orgs/2/a")
    await storage.delete("orgs/2/a")  # a missing key is not an error
    assert [o async for o in storage.list("")] == []


async def test_a_scratch_copy_holds_the_bytes_and_is_gone_after_the_block(storage: Store) -> None:
    await storage.put_bytes("orgs/1/v", b"video bytes")
    async with storage.scratch("orgs/1/v") as path:
        assert path.read_bytes() == b"video bytes"
    assert await storage.exists("orgs/1/v")
    if isinstance(storage, S3Storage):
        assert not path.exists()


async def test_a_local_file_is_stored_whole_under_its_key(storage: Store, tmp_path: Path) -> None:
    small, big = tmp_path / "small.m4s", tmp_path / "big.m4s"
    small.write_bytes(b"segment")
    data = bytes(range(256)) * (4096 * 40)  # 40 MiB: several parts on S3, several copy chunks locally
    big.write_bytes(data)
    await storage.put_file("orgs/1/v.hls/240p/seg_00000.m4s", small)
    await storage.put_file("orgs/1/v.hls/240p/seg_00001.m4s", big)
    assert await collect(storage.read("orgs/1/v.hls/240p/seg_00000.m4s", 0, 7)) == b"segment"
    assert await storage.checksum("orgs/1/v.hls/240p/seg_00001.m4s") == hashlib.sha256(data).hexdigest()
    assert small.exists()  # a copy: the scratch file is the caller's to remove


async def test_a_missing_local_file_stores_nothing(storage: Store, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        await storage.put_file("orgs/1/a", tmp_path / "absent")
    assert [o async for o in storage.list("")] == []


async def test_a_presigned_url_serves_the_object_with_ranges_on_s3(s3_service: S3Service, tmp_path: Path) -> None:
    storage = s3_service.storage(tmp_path)
    await storage.put_bytes("orgs/1/v", b"0123456789")
    url = await storage.presign_get("orgs/1/v", timedelta(minutes=5))
    assert url is not None
    async with httpx.AsyncClient() as client:
        whole = await client.get(url)
        ranged = await client.get(url, headers={"Range": "bytes=3-5"})
    assert (whole.status_code, whole.content) == (200, b"0123456789")
    assert (ranged.status_code, ranged.content) == (206, b"345")


async def test_local_files_have_no_presigned_url(tmp_path: Path) -> None:
    assert await LocalStorage(tmp_path).presign_get("k", timedelta(minutes=5)) is None


async def test_an_unreachable_store_is_reported_in_one_line_and_fails_operations_as_unavailable(
    s3_service: S3Service, tmp_path: Path
) -> None:
    dead = S3Service(endpoint="http://127.0.0.1:9").storage(tmp_path)
    with pytest.raises(StoreUnreachable, match="unreachable") as caught:
        await dead.check()
    assert "\n" not in str(caught.value)
    assert await dead.ready() is False
    with pytest.raises(Unavailable):
        await dead.put_bytes("k", b"x")
    with pytest.raises(Unavailable):
        await collect(dead.read("k", 0, 1))


async def test_a_missing_bucket_is_reported_at_start_up(s3_service: S3Service, tmp_path: Path) -> None:
    missing = S3Service(endpoint=s3_service.endpoint, bucket="no-such-bucket").storage(tmp_path)
    with pytest.raises(StoreUnreachable):
        await missing.check()
    await s3_service.storage(tmp_path).check()
    assert await s3_service.storage(tmp_path).ready() is True


async def test_a_failed_s3_upload_aborts_its_multipart_upload(s3_service: S3Service, tmp_path: Path) -> None:
    storage = s3_service.storage(tmp_path)

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (17 * MIB)  # two parts sent
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await storage.write("orgs/1/aborted", broken(), max_bytes=100 * MIB)
    async with httpx.AsyncClient() as client:  # moto answers ListMultipartUploads unsigned
        listing = await client.get(f"{s3_service.endpoint}/{s3_service.bucket}?uploads")
    assert listing.status_code == 200
    assert "orgs/1/aborted" not in listing.text
