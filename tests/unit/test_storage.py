"""LocalStorage on a temporary directory: what only files have (keys as paths, .tmp, ENOSPC).

The port's contract, shared with S3, is tested on both in tests/integration/test_storage.py.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from tests.full_disk import FullDisk
from vidplat.adapters.storage.local import LocalStorage
from vidplat.domain.errors import PayloadTooLarge, StorageFull


async def stream(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path, chunk_size=4)


async def test_write_stores_the_stream_and_returns_its_size(storage: LocalStorage, tmp_path: Path) -> None:
    size = await storage.write("orgs/1/a.bin", stream(b"hello ", b"wor", b"ld"), max_bytes=100)
    assert size == 11
    assert (tmp_path / "orgs/1/a.bin").read_bytes() == b"hello world"
    assert files_under(tmp_path / ".tmp") == []


async def test_write_accepts_exactly_max_bytes(storage: LocalStorage) -> None:
    assert await storage.write("k", stream(b"12345"), max_bytes=5) == 5


async def test_oversized_write_keeps_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(PayloadTooLarge):
        await storage.write("orgs/1/big.bin", stream(b"123456", b"7890", b"more"), max_bytes=9)
    assert files_under(tmp_path) == []


async def test_write_failing_midway_keeps_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial data"
        raise ConnectionResetError

    with pytest.raises(ConnectionResetError):
        await storage.write("k", broken(), max_bytes=100)
    assert files_under(tmp_path) == []


async def test_failed_overwrite_leaves_the_previous_file_intact(storage: LocalStorage) -> None:
    await storage.put_bytes("k", b"old")
    with pytest.raises(PayloadTooLarge):
        await storage.write("k", stream(b"new but far too long"), max_bytes=5)
    assert await collect(storage.read("k", 0, 3)) == [b"old"]


@pytest.mark.parametrize(
    "key",
    ["../escape", "a/../../b", "/etc/passwd", "a//b", "a/", "", "a/./b", "nul\x00byte", "space here", "é", ".tmp/x"],
)
async def test_unsafe_keys_are_refused(storage: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key"):
        storage.local_path(key)
    with pytest.raises(ValueError, match="invalid storage key"):
        await storage.put_bytes(key, b"x")


async def test_ranged_read_yields_bounded_chunks(storage: LocalStorage) -> None:
    await storage.put_bytes("k", b"0123456789")
    assert await collect(storage.read("k", 2, 7)) == [b"2345", b"678"]


async def test_read_past_the_end_stops_at_the_end(storage: LocalStorage) -> None:
    await storage.put_bytes("k", b"0123456789")
    assert b"".join(await collect(storage.read("k", 8, 100))) == b"89"


async def test_reading_a_missing_key_raises_file_not_found(storage: LocalStorage) -> None:
    with pytest.raises(FileNotFoundError):
        await collect(storage.read("missing", 0, 1))


async def test_move_renames_into_new_parent_directories(storage: LocalStorage, tmp_path: Path) -> None:
    await storage.put_bytes("uploads/a", b"data")
    await storage.move("uploads/a", "videos/x/y/a")
    assert not await storage.exists("uploads/a")
    assert (tmp_path / "videos/x/y/a").read_bytes() == b"data"


async def test_size_exists_and_checksum_describe_the_stored_bytes(storage: LocalStorage) -> None:
    await storage.put_bytes("k", b"abc")
    assert (await storage.head("k")).size == 3
    assert await storage.exists("k")
    assert not await storage.exists("other")
    assert await storage.checksum("k") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


async def test_deleting_a_missing_key_is_not_an_error(storage: LocalStorage) -> None:
    await storage.put_bytes("k", b"abc")
    await storage.delete("k")
    await storage.delete("k")
    assert not await storage.exists("k")


async def test_local_path_points_inside_the_root(storage: LocalStorage, tmp_path: Path) -> None:
    assert storage.local_path("orgs/1/v") == tmp_path / "orgs/1/v"


async def test_sweep_removes_only_stale_temporary_files(storage: LocalStorage, tmp_path: Path) -> None:
    temp = tmp_path / ".tmp"
    temp.mkdir()
    stale, fresh = temp / "stale.part", temp / "fresh.part"
    for path in (stale, fresh):
        path.write_bytes(b"x")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    assert await storage.sweep_temporary(timedelta(minutes=10)) == 1
    assert files_under(tmp_path) == [fresh]


async def test_sweep_without_any_temporary_files_removes_nothing(storage: LocalStorage) -> None:
    assert await storage.sweep_temporary(timedelta(0)) == 0


async def test_listing_skips_unfinished_writes_and_walks_only_the_prefix(storage: LocalStorage, tmp_path: Path) -> None:
    await storage.put_bytes("orgs/1/a", b"a")
    await storage.put_bytes("orgs/2/b", b"b")
    (tmp_path / ".tmp").mkdir(exist_ok=True)
    (tmp_path / ".tmp" / "x.part").write_bytes(b"x")
    assert sorted([o.key async for o in storage.list("")]) == ["orgs/1/a", "orgs/2/b"]
    assert [o.key async for o in storage.list("orgs/1/")] == ["orgs/1/a"]


async def test_a_full_disk_raises_storage_full_and_keeps_nothing(
    storage: LocalStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_temp = storage._open_temp

    def failing() -> tuple[Path, object]:
        temp, file = open_temp()
        return temp, FullDisk(file)

    monkeypatch.setattr(storage, "_open_temp", failing)
    with pytest.raises(StorageFull):
        await storage.write("orgs/1/a", stream(b"12345678", b"9"), max_bytes=100)
    with pytest.raises(StorageFull):
        await storage.put_bytes("orgs/1/b", b"thumbnail")
    assert files_under(tmp_path) == []


async def test_ready_says_full_when_almost_no_space_is_left(
    storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert await storage.ready() is True
    monkeypatch.setattr("vidplat.adapters.storage.local.MIN_FREE_BYTES", 2**62)
    assert await storage.ready() == "full"
