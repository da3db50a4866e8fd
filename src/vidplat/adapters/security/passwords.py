"""PasswordHasher on argon2id (argon2-cffi)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """Argon2id, off the event loop because it is slow by design.

    One hash at a time per process, on a thread of its own: argon2 already spreads each hash
    over `parallelism` threads, and a burst of logins hashing side by side on the shared pool
    would outnumber the cores many times over and starve the event loop (bench S6).
    """

    def __init__(self, time_cost: int = 3, memory_cost_kib: int = 65536, parallelism: int = 4) -> None:
        self._argon2 = _Argon2(time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism, type=Type.ID)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._argon2.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._verify, password_hash, password)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        # VerificationError covers a mismatch; InvalidHashError a stored value that is not an argon2 hash.
        except (VerificationError, InvalidHashError):
            return False
