"""Resumable writes on local files: one temporary file per upload, appended to under an exclusive lock."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO

from vidplat.adapters.storage.local import MIB, LocalStorage, full_disk
from vidplat.domain.errors import OffsetMismatch, UploadNotFound
from vidplat.domain.uploads.ports import Ledger, ResumableWrite, WriteState

# Acknowledge (fsync, then record the offset) at least every this many bytes of a long body.
RECORD_BYTES = 8 * MIB
WRITE_BYTES = MIB  # a thread hop writes about this much
LOCK_WAIT_SECONDS = 10.0
_LOCK_POLL_SECONDS = 0.05


class LocalResumableStorage:
    """Each write is a file under the root's temporary directory, renamed onto its key once complete.

    One request at a time appends, holding flock(2) on the file: the lock dies with its process, so
    a crashed writer never blocks the next, and the next truncates to the recorded offset whatever
    the crashed one wrote past it. Works for processes on one host, which is what local storage is.
    """

    def __init__(self, storage: LocalStorage, *, lock_wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
        self._storage = storage
        self._dir = storage.temporary_dir / "tus"
        self._lock_wait = lock_wait_seconds

    async def begin(self, key: str) -> WriteState:
        name = uuid.uuid4().hex
        with full_disk():
            await asyncio.to_thread(self._create, self._dir / name)
        return {"file": name}

    async def append(self, write: ResumableWrite, chunks: AsyncIterator[bytes], ledger: Ledger) -> bool:
        path = self._dir / str(write.state["file"])
        file = await asyncio.to_thread(_open_locked, path, self._lock_wait)
        if file is None:  # renamed onto its key by a request that then crashed, or removed
            return await self._published(write)
        try:
            # Under the lock every writer of this file records, so a read settles that the truncation
            # below drops only what no one acknowledged.
            await ledger.confirm()
            with full_disk():
                return await self._append(file, path, write, chunks, ledger)
        finally:
            file.close()  # releases the lock

    async def _append(
        self, file: BinaryIO, path: Path, write: ResumableWrite, chunks: AsyncIterator[bytes], ledger: Ledger
    ) -> bool:
        await asyncio.to_thread(_seek, file, write.offset)
        written = acknowledged = write.offset
        pending = bytearray()
        try:
            async for chunk in chunks:
                pending += chunk
                if len(pending) >= WRITE_BYTES:
                    await asyncio.to_thread(file.write, pending)
                    written, pending = written + len(pending), bytearray()
                    if written - acknowledged >= RECORD_BYTES and written < write.length:
                        await asyncio.to_thread(_sync, file)
                        await ledger.record(written, write.state)
                        acknowledged = written
        except Exception:
            # The body broke off: what arrived is kept and acknowledged.
            await asyncio.to_thread(_write_synced, file, pending)
            if written + len(pending) > acknowledged:
                await ledger.record(written + len(pending), write.state)
            raise
        await asyncio.to_thread(_write_synced, file, pending)
        written += len(pending)
        if written < write.length:
            if written > acknowledged:
                await ledger.record(written, write.state)
            return False
        await asyncio.to_thread(_publish, path, self._storage.local_path(write.key))
        return True

    async def _published(self, write: ResumableWrite) -> bool:
        try:
            return (await self._storage.head(write.key)).size == write.length
        except FileNotFoundError:
            raise UploadNotFound from None

    async def abort(self, write: ResumableWrite) -> None:
        name = write.state.get("file")
        if name is not None:
            await asyncio.to_thread((self._dir / str(name)).unlink, missing_ok=True)

    def _create(self, path: Path) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        path.touch(exist_ok=False)


def _open_locked(path: Path, wait_seconds: float) -> BinaryIO | None:
    """The file, open and exclusively locked; None when no file is at the path any more."""
    try:
        file = path.open("r+b")
    except FileNotFoundError:
        return None
    try:
        if not _lock_until(file, time.monotonic() + wait_seconds):
            raise OffsetMismatch("Another request is writing this upload; ask HEAD for the offset and retry.")
        # Locked, but maybe after its owner renamed it onto its key: only the file still at the path counts.
        if _still_at(file, path):
            return file
    except BaseException:
        file.close()
        raise
    file.close()
    return None


def _still_at(file: BinaryIO, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(file.fileno()), path.stat())
    except FileNotFoundError:
        return False


def _lock_until(file: BinaryIO, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_LOCK_POLL_SECONDS)
        else:
            return True


def _seek(file: BinaryIO, offset: int) -> None:
    """Drop whatever a crashed writer stored past the acknowledged offset, and append from there."""
    if os.fstat(file.fileno()).st_size < offset:  # acknowledged bytes lost (the disk, an operator)
        raise UploadNotFound("The stored bytes of this upload are gone; start a new upload.")
    file.truncate(offset)
    file.seek(offset)


def _sync(file: BinaryIO) -> None:
    file.flush()
    os.fsync(file.fileno())


def _write_synced(file: BinaryIO, data: bytes | bytearray) -> None:
    file.write(data)
    _sync(file)


def _publish(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
