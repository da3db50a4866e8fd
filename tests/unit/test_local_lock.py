"""The embedded mode's in-process keyed lock."""

from __future__ import annotations

import asyncio

import pytest

from vidplat.adapters.local.lock import InProcessLock
from vidplat.domain.ports import LockUnavailable


async def test_holders_of_the_same_key_never_overlap() -> None:
    lock = InProcessLock()
    inside = 0
    overlaps = 0

    async def critical() -> None:
        nonlocal inside, overlaps
        async with lock.hold("video-1"):
            inside += 1
            overlaps += inside > 1
            await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(critical() for _ in range(50)))
    assert overlaps == 0


async def test_different_keys_do_not_block_each_other() -> None:
    lock = InProcessLock(wait_seconds=0.05)
    async with lock.hold("a"), lock.hold("b"):
        pass


async def test_waiting_too_long_raises_lock_unavailable() -> None:
    lock = InProcessLock(wait_seconds=0.05)
    async with lock.hold("busy"):
        with pytest.raises(LockUnavailable):
            async with lock.hold("busy"):
                pass


async def test_lock_is_released_when_the_block_raises() -> None:
    lock = InProcessLock(wait_seconds=0.05)
    with pytest.raises(RuntimeError):
        async with lock.hold("k"):
            raise RuntimeError
    async with lock.hold("k"):
        pass


async def test_unused_keys_are_forgotten() -> None:
    lock = InProcessLock(wait_seconds=0.05)
    async with lock.hold("busy"):
        with pytest.raises(LockUnavailable):
            async with lock.hold("busy"):
                pass
    for index in range(100):
        async with lock.hold(f"key-{index}"):
            pass
    assert lock._entries == {}


async def test_timeout_inside_the_block_is_not_mistaken_for_lock_unavailable() -> None:
    lock = InProcessLock()
    with pytest.raises(TimeoutError):
        async with lock.hold("k"):
            raise TimeoutError


async def test_hold_free_takes_only_the_keys_nobody_holds_and_waits_for_none() -> None:
    lock = InProcessLock(wait_seconds=0.05)
    async with lock.hold("b"), lock.hold_free(["a", "b", "c"]) as held:
        assert held == {"a", "c"}
        async with lock.hold_free(["a", "c", "d"]) as second:
            assert second == {"d"}
        with pytest.raises(LockUnavailable):
            async with lock.hold("a"):
                pass
    async with lock.hold_free(["a", "b", "c", "d"]) as after:
        assert after == {"a", "b", "c", "d"}
    assert not lock._entries  # nothing left behind
