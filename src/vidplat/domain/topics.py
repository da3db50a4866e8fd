"""What a committed write changed, named so that cached reads can depend on it.

The unit of work announces these for every row it commits; readers name the ones their
value was computed from (ReadCache.get_or_load).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Hashable
from typing import TypeVar
from uuid import UUID

T = TypeVar("T")


def user(user_id: UUID) -> str:
    """The user's row and all of their sessions (role, deletion, password change, revoke all)."""
    return f"user:{user_id}"


def session(session_id: UUID) -> str:
    """One login session (logout, refresh-token reuse)."""
    return f"session:{session_id}"


def videos(organization_id: UUID) -> str:
    """Any video of the organization: its catalog and each of its videos."""
    return f"videos:{organization_id}"


class NoCache:
    """A ReadCache that keeps nothing: every read goes to the database."""

    async def get_or_load(self, key: Hashable, topics: Collection[str], load: Callable[[], Awaitable[T]]) -> T:
        return await load()


NO_CACHE = NoCache()
