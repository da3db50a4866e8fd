"""Storage on a local directory: atomic writes via a temporary file and rename."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import os
import re
import shutil
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from vidplat.domain.errors import PayloadTooLarge, StorageFull
from vidplat.domain.ports import StoredObject

MIB = 1024 * 1024
_TEMP_DIR = ".tmp"
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
# Below this much free space the store reports itself full on /ready: the next upload would fail.
MIN_FREE_BYTES = 64 * MIB
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


class LocalStorage:
    """Files under root, one per key. Blocking file calls run in worker threads.

    Unfinished writes live in root/.tmp and are renamed into place only when complete, so a
    reader never sees a partial file; `sweep_temporary` removes what a crash left behind.
    A full disk (ENOSPC) raises StorageFull after the partial file is removed.
    """

    def __init__(self, root: Path, chunk_size: int = MIB) -> None:
        self._root = root
        self._temp = root / _TEMP_DIR
        self._chunk_size = chunk_size

    def local_path(self, key: str) -> Path:
        """The file behind a key: for the media adapters' scratch copy and nginx's offload only."""
        return self._root / _checked(key)

    @contextlib.asynccontextmanager
    async def scratch(self, key: str) -> AsyncIterator[Path]:
        """A readable local file holding the object: here the stored file itself, no copy."""
        path = self.local_path(key)
        if not await asyncio.to_thread(path.is_file):
            raise FileNotFoundError(key)
        yield path

    async def write(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        with _full_disk():
            return await self._write(key, chunks, max_bytes)

    async def _write(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        target = self.local_path(key)
        temp, file = await asyncio.to_thread(self._open_temp)
        try:
            total = 0
            pending = bytearray()  # batch small chunks so a thread hop moves about chunk_size bytes
            async for chunk in chunks:
                total += len(chunk)
                if total > max_bytes:
                    raise PayloadTooLarge
                pending += chunk
                if len(pending) >= self._chunk_size:
                    await asyncio.to_thread(file.write, pending)
                    pending = bytearray()
            await asyncio.to_thread(_finish, file, pending, temp, target)
        except BaseException:
            # Also on cancellation (client gone): nothing of a failed upload is kept.
            file.close()
            temp.unlink(missing_ok=True)
            raise
        return total

    async def put_bytes(self, key: str, data: bytes) -> None:
        target = self.local_path(key)
        with _full_disk():
            temp, file = await asyncio.to_thread(self._open_temp)
            try:
                await asyncio.to_thread(_finish, file, data, temp, target)
            except BaseException:
                file.close()
                temp.unlink(missing_ok=True)
                raise

    async def put_file(self, key: str, path: Path) -> None:
        target = self.local_path(key)
        with _full_disk():
            temp, file = await asyncio.to_thread(self._open_temp)
            try:
                await asyncio.to_thread(_copy_in, path, file, temp, target)
            except BaseException:
                file.close()
                temp.unlink(missing_ok=True)
                raise

    async def move(self, source: str, target: str) -> None:
        with _full_disk():
            await asyncio.to_thread(_rename, self.local_path(source), self.local_path(target))

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.local_path(key).unlink, missing_ok=True)

    async def delete_prefix(self, prefix: str) -> int:
        removed = 0
        async for stored in self.list(prefix):
            await self.delete(stored.key)
            removed += 1
        return removed

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.local_path(key).is_file)

    async def head(self, key: str) -> StoredObject:
        stat = await asyncio.to_thread(self.local_path(key).stat)
        return _stored(key, stat)

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        for stored in await asyncio.to_thread(lambda: list(self._scan(prefix))):
            yield stored

    async def presign_get(self, key: str, ttl: timedelta) -> str | None:
        return None  # files are served by vidplat itself, or by nginx in the offload mode

    async def ready(self) -> bool | str:
        """True when the root is writable, "full" when almost no space is left."""
        usage = await asyncio.to_thread(_usage, self._root)
        if usage is None:
            return False
        return "full" if usage < MIN_FREE_BYTES else True

    async def read(self, key: str, start: int, length: int) -> AsyncGenerator[bytes, None]:
        # Opening and the first read share one thread hop: most ranges players ask for are one chunk.
        file, chunk = await asyncio.to_thread(_open_at, self.local_path(key), start, min(length, self._chunk_size))
        try:
            remaining = length
            while chunk:
                remaining -= len(chunk)
                yield chunk
                if remaining <= 0:
                    return
                chunk = await asyncio.to_thread(file.read, min(remaining, self._chunk_size))
        finally:
            # Synchronous on purpose: an abandoned generator is closed where awaiting is not possible.
            file.close()

    async def checksum(self, key: str) -> str:
        return await asyncio.to_thread(_sha256, self.local_path(key))

    async def sweep_temporary(self, older_than: timedelta) -> int:
        return await asyncio.to_thread(_sweep, self._temp, time.time() - older_than.total_seconds())

    def _scan(self, prefix: str) -> Iterator[StoredObject]:
        # Only the directory the prefix's complete segments name need be walked.
        start = self._root / prefix.rpartition("/")[0] if "/" in prefix else self._root
        for directory, dirs, files in os.walk(start):
            if directory == str(self._root):
                dirs[:] = [d for d in dirs if d != _TEMP_DIR]
            for name in files:
                path = Path(directory, name)
                key = path.relative_to(self._root).as_posix()
                if key.startswith(prefix):
                    with contextlib.suppress(FileNotFoundError):  # deleted while scanning
                        yield _stored(key, path.stat())

    def _open_temp(self) -> tuple[Path, BinaryIO]:
        self._temp.mkdir(parents=True, exist_ok=True)
        temp = self._temp / f"{uuid.uuid4().hex}.part"
        return temp, temp.open("xb")


@contextlib.contextmanager
def _full_disk() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull from exc
        raise


def _stored(key: str, stat: os.stat_result) -> StoredObject:
    return StoredObject(
        key=key,
        size=stat.st_size,
        etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
        last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
    )


def _usage(root: Path) -> int | None:
    """Free bytes under root, None when it cannot be created or written."""
    try:
        root.mkdir(parents=True, exist_ok=True)
        if not os.access(root, os.W_OK):
            return None
        return shutil.disk_usage(root).free
    except OSError:
        return None


def _open_at(path: Path, start: int, size: int) -> tuple[BinaryIO, bytes]:
    """The file open at `start`, and its first `size` bytes (fewer at the end of the file)."""
    file = path.open("rb")
    try:
        file.seek(start)
        return file, file.read(size)
    except BaseException:
        file.close()
        raise


def _checked(key: str) -> str:
    """The key when it is a safe relative path inside the root; ValueError otherwise."""
    segments = key.split("/")
    if not all(_SEGMENT.fullmatch(s) and s not in {".", ".."} for s in segments) or segments[0] == _TEMP_DIR:
        raise ValueError(f"invalid storage key: {key!r}")
    return key


def _finish(file: BinaryIO, tail: bytes | bytearray, temp: Path, target: Path) -> None:
    """Write the last bytes, make them durable, then publish the file under its key in one rename."""
    with file:
        file.write(tail)
        file.flush()
        os.fsync(file.fileno())
    _rename(temp, target)


def _copy_in(path: Path, file: BinaryIO, temp: Path, target: Path) -> None:
    with path.open("rb") as source:
        shutil.copyfileobj(source, file, MIB)
    _finish(file, b"", temp, target)


def _rename(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)


def _sha256(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _sweep(temp_dir: Path, cutoff: float) -> int:
    removed = 0
    for entry in temp_dir.glob("*.part"):
        try:
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed += 1
        except FileNotFoundError:  # finished or swept concurrently
            continue
    return removed
