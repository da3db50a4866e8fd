"""Storage on any S3-compatible object store, through obstore."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import obstore
from obstore.exceptions import BaseError, PermissionDeniedError, UnauthenticatedError
from obstore.store import S3Store

from vidplat.domain.errors import PayloadTooLarge, StorageFull, Unavailable
from vidplat.domain.ports import StoredObject

if TYPE_CHECKING:
    from obstore import ObjectMeta

MIB = 1024 * 1024
# A multipart upload buffers at most PART_SIZE x PART_CONCURRENCY bytes: 32 MiB per upload.
PART_SIZE = 8 * MIB
PART_CONCURRENCY = 4
READ_CHUNK = 4 * MIB
_DELETE_BATCH = 1000
# Markers of a full store in S3 error bodies (MinIO: XMinioStorageFull; 507 elsewhere).
_FULL_MARKERS = ("StorageFull", "InsufficientStorage", "Insufficient Storage")


_ERROR_CODE = re.compile(r"<Code>(\w+)</Code>")
_CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "Forbidden"}
)


class StoreUnreachable(Exception):
    """The bucket cannot be used; the message is one line for the operator."""


def s3_store(
    url: str,
    *,
    endpoint: str | None,
    access_key_id: str | None,
    secret_access_key: str | None,
    region: str | None,
) -> S3Store:
    """An S3Store for s3://bucket/prefix with timeouts that fail fast instead of hanging requests."""
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    config: dict[str, Any] = {}
    if endpoint is not None:
        config["endpoint"] = endpoint
    if access_key_id is not None and secret_access_key is not None:
        config |= {"access_key_id": access_key_id, "secret_access_key": secret_access_key}
    return S3Store(
        bucket,
        prefix=prefix.strip("/") or None,
        region=region or "us-east-1",
        # Path-style addressing works on every emulator; AWS still accepts it.
        virtual_hosted_style_request=False,
        client_options={
            "allow_http": endpoint is not None and endpoint.startswith("http://"),
            "connect_timeout": timedelta(seconds=3),
            # Per read, not per request: a long download to a slow player is fine, a silent store is not.
            "read_timeout": timedelta(seconds=30),
            "timeout": timedelta(hours=6),
        },
        retry_config={"max_retries": 2, "retry_timeout": timedelta(seconds=10)},
        **config,
    )


class S3Storage:
    """Objects in a bucket. Uploads stream as multipart uploads: visible only once completed, aborted on failure.

    A process killed mid-upload leaves an incomplete multipart upload that obstore cannot list:
    the bucket's lifecycle rule AbortIncompleteMultipartUpload (README) removes it.
    """

    def __init__(self, store: S3Store, scratch_dir: Path) -> None:
        self._store = store
        self._scratch_dir = scratch_dir

    async def write(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        total = 0

        async def counted() -> AsyncIterator[bytes]:
            nonlocal total
            async for chunk in chunks:
                total += len(chunk)
                if total > max_bytes:
                    raise PayloadTooLarge
                yield chunk

        with _mapped():
            await obstore.put_async(
                self._store,
                key,
                counted(),
                use_multipart=True,
                chunk_size=PART_SIZE,
                max_concurrency=PART_CONCURRENCY,
            )
        return total

    async def put_bytes(self, key: str, data: bytes) -> None:
        with _mapped():
            await obstore.put_async(self._store, key, data, use_multipart=False)

    async def put_file(self, key: str, path: Path) -> None:
        with _mapped():
            # obstore reads the file in parts itself; a segment of a few MB goes up in one request.
            await obstore.put_async(self._store, key, path, chunk_size=PART_SIZE, max_concurrency=PART_CONCURRENCY)

    async def move(self, source: str, target: str) -> None:
        with _mapped():
            await obstore.rename_async(self._store, source, target)  # a server-side copy, then delete

    async def delete(self, key: str) -> None:
        with _mapped(), contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store, key)

    async def delete_prefix(self, prefix: str) -> int:
        keys = [stored.key async for stored in self.list(prefix)]
        with _mapped():
            for at in range(0, len(keys), _DELETE_BATCH):
                await obstore.delete_async(self._store, keys[at : at + _DELETE_BATCH])
        return len(keys)

    async def exists(self, key: str) -> bool:
        try:
            await self.head(key)
        except FileNotFoundError:
            return False
        return True

    async def head(self, key: str) -> StoredObject:
        with _mapped():
            return _stored(await obstore.head_async(self._store, key))

    async def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        with _mapped():
            async for batch in obstore.list(self._store, prefix=prefix or None):
                for meta in batch:
                    yield _stored(meta)

    async def read(self, key: str, start: int, length: int) -> AsyncGenerator[bytes, None]:
        if length <= 0:
            return
        with _mapped():
            result = await obstore.get_async(self._store, key, options={"range": (start, start + length)})
            async for chunk in result.stream(min_chunk_size=READ_CHUNK):
                yield bytes(chunk)

    async def checksum(self, key: str) -> str:
        digest = hashlib.sha256()
        async for chunk in self.read(key, 0, (await self.head(key)).size):
            digest.update(chunk)
        return digest.hexdigest()

    async def presign_get(self, key: str, ttl: timedelta) -> str | None:
        with _mapped():
            return await obstore.sign_async(self._store, "GET", key, ttl)

    async def sweep_temporary(self, older_than: timedelta) -> int:
        # Unfinished writes are incomplete multipart uploads: aborted by the writer on failure,
        # by the bucket's lifecycle rule after a crash (obstore cannot list them).
        return 0

    @contextlib.asynccontextmanager
    async def scratch(self, key: str) -> AsyncIterator[Path]:
        """A local copy of the object for tools that need a seekable file; removed after the block."""
        await asyncio.to_thread(self._scratch_dir.mkdir, parents=True, exist_ok=True)
        fd, name = await asyncio.to_thread(tempfile.mkstemp, suffix=".part", dir=self._scratch_dir)
        path = Path(name)
        try:
            with open(fd, "wb") as file:  # noqa: ASYNC230 - every write below runs in a thread
                async for chunk in self.read(key, 0, (await self.head(key)).size):
                    await asyncio.to_thread(file.write, chunk)
            yield path
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)

    async def check(self) -> None:
        """Raise StoreUnreachable, with a one-line reason, unless the bucket answers to these credentials."""
        try:
            await obstore.list_with_delimiter_async(self._store, prefix="vidplat-start-up-check")
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            raise StoreUnreachable(f"the object store refused the credentials ({_reason(exc)})") from None
        except BaseError as exc:
            code = _reason(exc)
            if code in _CREDENTIAL_CODES:
                raise StoreUnreachable(f"the object store refused the credentials ({code})") from None
            if code == "NoSuchBucket":
                raise StoreUnreachable("the bucket does not exist (NoSuchBucket)") from None
            raise StoreUnreachable(f"the object store is unreachable ({code})") from None

    async def ready(self) -> bool | str:
        try:
            await self.check()
        except StoreUnreachable:
            return False
        return True


def _stored(meta: ObjectMeta) -> StoredObject:
    return StoredObject(key=meta["path"], size=meta["size"], etag=meta["e_tag"], last_modified=meta["last_modified"])


def _reason(exc: BaseException) -> str:
    """The S3 error code in the answer (AccessDenied, NoSuchBucket, ...), else obstore's message on one line."""
    text = " ".join(str(exc).split())
    code = _ERROR_CODE.search(text)
    return code[1] if code else text[:200]


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    """obstore's failures as the port's: missing keys stay FileNotFoundError, the rest Unavailable or StorageFull."""
    try:
        yield
    except FileNotFoundError:
        raise
    except BaseError as exc:
        if any(marker in str(exc) for marker in _FULL_MARKERS):
            raise StorageFull from exc
        raise Unavailable("The object store is unavailable; try again shortly.") from exc
