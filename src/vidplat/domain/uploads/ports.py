"""What resumable uploads need from storage: one object written by many requests, on any process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

WriteState = dict[str, Any]
"""The store's own record of a write in progress (its multipart upload and parts, say): JSON, opaque here."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumableWrite:
    key: str  # where the complete object is published
    scratch: str  # a key prefix the store may keep small temporary objects under
    length: int
    offset: int  # bytes acknowledged so far
    state: WriteState


class Ledger(Protocol):
    """The upload's row as a write sees it: acknowledged progress lives there, never in a process."""

    async def claim(self) -> int:
        """Confirm the upload is still where this write started and take a number no other claim gets.

        Numbers grow with every claim. Raises OffsetMismatch once another write moved the offset, or
        UploadNotFound once the upload ended.
        """
        ...

    async def confirm(self) -> None:
        """Raise as `claim` does unless the upload is still where this write started (a read only)."""
        ...

    async def record(self, offset: int, state: WriteState) -> None:
        """Acknowledge every byte below `offset`, kept as `state` says; raises as `claim` does."""
        ...


class ResumableStorage(Protocol):
    """Writes an object across requests: bytes are durable before they are recorded, visible only once complete."""

    async def begin(self, key: str) -> WriteState:
        """Start writing the object `key`: the state to keep with the upload."""
        ...

    async def append(self, write: ResumableWrite, chunks: AsyncIterator[bytes], ledger: Ledger) -> bool:
        """Store the body at write.offset, recording durable progress below the length with the ledger.

        When the body breaks off, what arrived is made durable and recorded, then the error propagates.
        True when the last byte has arrived and the object is published under write.key (also when an
        earlier request published it and crashed before the completion was recorded): the final bytes
        are then durable but unrecorded, for the caller to record along with what completes.
        """
        ...

    async def abort(self, write: ResumableWrite) -> None:
        """Remove every byte of an unfinished write (not a published object); idempotent."""
        ...
