"""Storage adapters."""

from vidplat.adapters.storage.local import LocalStorage

__all__ = ["LocalStorage"]
