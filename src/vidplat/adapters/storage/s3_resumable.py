"""Resumable writes on S3: one multipart upload per upload, its parts and short tail recorded in the row.

obstore (0.12) streams a multipart upload within one call only: it cannot name an upload to take
up again in another request or process. The four multipart calls this needs come from botocore,
off the event loop; every other object operation stays on obstore (S3Storage).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from vidplat.adapters.storage.s3 import MIB, S3Storage
from vidplat.domain.errors import StorageFull, Unavailable, UploadNotFound
from vidplat.domain.uploads.ports import Ledger, ResumableWrite, WriteState

# S3's smallest part but the last; below it, bytes wait in a tail object for the next PATCH.
MIN_PART = 5 * MIB
# Parts are cut at this size: the memory one PATCH holds, and 10,000 parts make 80 GiB.
PART_SIZE = 8 * MIB
MAX_PARTS = 10_000
_FULL_CODES = frozenset({"XMinioStorageFull", "InsufficientStorage", "StorageFull"})


class _State(msgspec.Struct, kw_only=True):
    upload_id: str | None = None
    parts: list[tuple[int, str, int]] = msgspec.field(default_factory=list)  # number, ETag, size
    tail: str | None = None  # key of the bytes past the last part, fewer than MIN_PART
    tail_size: int = 0

    def dump(self) -> WriteState:
        dumped: WriteState = msgspec.to_builtins(self)
        return dumped


class _Gone(Exception):
    """The multipart upload no longer exists (completed by an earlier request, or aborted)."""


@dataclass(slots=True)
class S3Client:
    """A botocore S3 client made on first use (importing it costs seconds and tens of MB)."""

    make: Callable[[], Any]
    bucket: str
    prefix: str
    _client: Any = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def call(self, operation: str, key: str, **params: Any) -> Any:
        return await asyncio.to_thread(self._call, operation, key, params)

    def _call(self, operation: str, key: str, params: dict[str, Any]) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        with self._lock:
            if self._client is None:
                self._client = self.make()
        try:
            return getattr(self._client, operation)(Bucket=self.bucket, Key=f"{self.prefix}{key}", **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "NoSuchUpload":
                raise _Gone from exc
            if code in _FULL_CODES:
                raise StorageFull from exc
            raise Unavailable("The object store is unavailable; try again shortly.") from exc
        except BotoCoreError as exc:
            raise Unavailable("The object store is unavailable; try again shortly.") from exc


def s3_client(
    url: str, *, endpoint: str | None, access_key_id: str | None, secret_access_key: str | None, region: str | None
) -> S3Client:
    """The bucket and prefix of s3://bucket/prefix, with the same endpoint and credentials as s3_store."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    prefix = prefix.strip("/")

    def make() -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            region_name=region or "us-east-1",
            s3={"addressing_style": "path"},
            connect_timeout=3,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            # Checksums only where S3 requires them: emulators differ on the newer optional ones.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=config,
        )

    return S3Client(make, bucket, f"{prefix}/" if prefix else "")


class S3ResumableStorage:
    """Parts of PART_SIZE go to the multipart upload as they fill; what a PATCH leaves short of MIN_PART
    waits in a small tail object and starts the next part. Completion is CompleteMultipartUpload:
    the object is assembled by the store, never copied.

    Part numbers come from the ledger's claims, so two requests racing at one offset never write
    the same part: the one whose record loses leaves a part that completion does not list.
    """

    def __init__(self, storage: S3Storage, client: S3Client) -> None:
        self._storage = storage
        self._client = client

    async def begin(self, key: str) -> WriteState:
        created = await self._client.call("create_multipart_upload", key)
        return _State(upload_id=created["UploadId"]).dump()

    async def append(self, write: ResumableWrite, chunks: AsyncIterator[bytes], ledger: Ledger) -> bool:
        start = msgspec.convert(write.state, _State)
        try:
            return await _Append(self, write, start, ledger).run(chunks)
        except _Gone:
            if await self._published(write):
                return True
            raise UploadNotFound from None
        except Unavailable:
            # A part or completion refused because an earlier request completed the upload: S3 says
            # NoSuchUpload, some emulators only fail. The object at its key settles which it was.
            if await self._published(write):
                return True
            raise

    async def _published(self, write: ResumableWrite) -> bool:
        try:
            return (await self._storage.head(write.key)).size == write.length
        except FileNotFoundError:
            return False

    async def abort(self, write: ResumableWrite) -> None:
        state = msgspec.convert(write.state, _State)
        if state.upload_id is not None:
            with contextlib.suppress(_Gone):
                await self._client.call("abort_multipart_upload", write.key, UploadId=state.upload_id)
        if state.tail is not None:
            await self._storage.delete(state.tail)

    async def put_part(self, write: ResumableWrite, state: _State, data: bytes, number: int) -> _State:
        if number > MAX_PARTS:
            raise Unavailable("The upload has used every part number the store allows.")
        put = await self._client.call("upload_part", write.key, UploadId=state.upload_id, PartNumber=number, Body=data)
        return _State(upload_id=state.upload_id, parts=[*state.parts, (number, put["ETag"], len(data))])

    async def complete(self, write: ResumableWrite, state: _State) -> None:
        parts = [{"PartNumber": number, "ETag": etag} for number, etag, _ in state.parts]
        await self._client.call(
            "complete_multipart_upload", write.key, UploadId=state.upload_id, MultipartUpload={"Parts": parts}
        )

    async def put_tail(self, write: ResumableWrite, state: _State, data: bytes) -> _State:
        key = f"{write.scratch}tail-{uuid.uuid4().hex}"
        await self._storage.put_bytes(key, data)
        return _State(upload_id=state.upload_id, parts=state.parts, tail=key, tail_size=len(data))

    async def read_tail(self, state: _State) -> bytes:
        if state.tail is None:
            return b""
        return b"".join([chunk async for chunk in self._storage.read(state.tail, 0, state.tail_size)])

    async def delete(self, key: str | None) -> None:
        if key is not None:
            await self._storage.delete(key)


@dataclass(slots=True)
class _Append:
    """One PATCH. `buffer` holds the bytes from `base`, the end of the last part, on: the tail first."""

    store: S3ResumableStorage
    write: ResumableWrite
    state: _State
    ledger: Ledger
    buffer: bytearray = field(default_factory=bytearray)
    base: int = 0
    acknowledged: int = 0

    async def run(self, chunks: AsyncIterator[bytes]) -> bool:
        started_tail = self.state.tail
        self.base, self.acknowledged = self.write.offset - self.state.tail_size, self.write.offset
        self.buffer += await self.store.read_tail(self.state)
        try:
            async for chunk in chunks:
                self.buffer += chunk
                # Strictly more than a part: the last byte never goes into a recorded part, so the
                # end is recorded only by the completing transaction.
                while len(self.buffer) > PART_SIZE:
                    await self._part(PART_SIZE)
        except Exception:
            await self._keep()  # the body broke off: what arrived is kept and acknowledged
            raise
        finally:
            if self.state.tail != started_tail:
                await self.store.delete(started_tail)  # consumed, and no longer named by the row
        if self.base + len(self.buffer) < self.write.length:
            await self._keep()
            return False
        # The last part: kept out of self.state, which the row must go on naming until completion commits.
        last = await self.store.put_part(self.write, self.state, bytes(self.buffer), await self.ledger.claim())
        await self.store.complete(self.write, last)
        return True

    async def _part(self, size: int) -> None:
        number = await self.ledger.claim()
        state = await self.store.put_part(self.write, self.state, bytes(self.buffer[:size]), number)
        await self._record(self.base + size, state)
        self.base += size
        del self.buffer[:size]

    async def _keep(self) -> None:
        """Make what arrived durable: a part if it is long enough, else the new tail."""
        if self.base + len(self.buffer) == self.acknowledged:
            return
        if len(self.buffer) >= MIN_PART:
            await self._part(len(self.buffer))
            return
        state = await self.store.put_tail(self.write, self.state, bytes(self.buffer))
        try:
            await self._record(self.base + len(self.buffer), state)
        except BaseException:
            await self.store.delete(state.tail)
            raise

    async def _record(self, offset: int, state: _State) -> None:
        await self.ledger.record(offset, state.dump())
        self.state, self.acknowledged = state, offset
