"""A file whose writes fail as on a full disk (ENOSPC), for the storage-full paths."""

from __future__ import annotations

import errno


class FullDisk:
    """A file object whose writes fail as on a full disk."""

    def __init__(self, real: object) -> None:  # the real file, closed with it
        self._real = real

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._real.close()  # type: ignore[attr-defined]
