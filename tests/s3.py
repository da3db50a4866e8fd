"""An S3 emulator for tests: moto's server, in-process, on a free loopback port."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import httpx
from moto.server import ThreadedMotoServer

from vidplat.adapters.storage.s3 import S3Storage, s3_store
from vidplat.adapters.storage.s3_resumable import S3ResumableStorage, s3_client

BUCKET = "vidplat-test"
REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class S3Service:
    endpoint: str
    bucket: str = BUCKET
    access_key_id: str = "test-key"
    secret_access_key: str = "test-secret"

    def url(self, prefix: str | None = None) -> str:
        """s3://bucket/<prefix>: a fresh prefix per caller keeps tests apart in one bucket."""
        return f"s3://{self.bucket}/{prefix or 'test-' + uuid4().hex[:12]}"

    def env(self, prefix: str | None = None) -> dict[str, str]:
        """The settings that point vidplat at this emulator."""
        return {
            "VIDPLAT_STORAGE_URL": self.url(prefix),
            "VIDPLAT_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": REGION,
        }

    def storage(self, scratch_dir: Path, prefix: str | None = None) -> S3Storage:
        return S3Storage(s3_store(self.url(prefix), **self._settings()), scratch_dir)

    def stores(self, scratch_dir: Path, prefix: str) -> tuple[S3Storage, S3ResumableStorage]:
        """The store under one prefix, and its resumable writes (tus)."""
        storage = self.storage(scratch_dir, prefix)
        return storage, S3ResumableStorage(storage, s3_client(self.url(prefix), **self._settings()))

    def multipart_uploads(self, prefix: str) -> list[str]:
        """The ids of the multipart uploads running under the prefix."""
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=REGION,
        )
        running = client.list_multipart_uploads(Bucket=self.bucket, Prefix=f"{prefix}/")
        return sorted(upload["UploadId"] for upload in running.get("Uploads", []))

    def _settings(self) -> dict[str, str]:
        return {
            "endpoint": self.endpoint,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "region": REGION,
        }


@contextmanager
def moto_s3() -> Iterator[S3Service]:
    """A moto S3 server with one bucket, stopped on exit."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        service = S3Service(endpoint=f"http://{host}:{port}")
        httpx.put(f"{service.endpoint}/{BUCKET}").raise_for_status()  # moto takes unsigned requests
        yield service
    finally:
        server.stop()
