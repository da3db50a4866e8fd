"""The embedded mode's in-process keyed lock."""

from __future__ import annotations

import asyncio

import pytest

from vidplat.adapters.local.lock import InProcessLock


async def test_holders_of_the_same_key_never_overlap() -> None:
    lock = InProcessLock()
    inside = 0
    overlaps = 0
    entered = 0

    async def critical() -> None:
        nonlocal inside, overlaps, entered
        async with lock.hold_free(["video-1"]) as held:
            if held.keys:
                inside += 1
                overlaps += inside > 1
                entered += 1
                await asyncio.sleep(0)
                inside -= 1

    await asyncio.gather(*(critical() for _ in range(50)))
    assert (overlaps, entered > 0) == (0, True)


async def test_hold_free_takes_only_the_keys_nobody_holds_and_waits_for_none() -> None:
    lock = InProcessLock()
    async with lock.hold_free(["b"]), lock.hold_free(["a", "b", "c"]) as held:
        assert held.keys == {"a", "c"}
        async with lock.hold_free(["a", "c", "d"]) as second:
            assert second.keys == {"d"}
    async with lock.hold_free(["a", "b", "c", "d"]) as after:
        assert after.keys == {"a", "b", "c", "d"}


async def test_keys_are_released_when_the_block_raises() -> None:
    lock = InProcessLock()
    with pytest.raises(RuntimeError):
        async with lock.hold_free(["k"]):
            raise RuntimeError
    async with lock.hold_free(["k"]) as held:
        assert held.keys == {"k"}


async def test_a_finished_key_is_free_again_one_process_keeps_no_done_marks() -> None:
    lock = InProcessLock()
    async with lock.hold_free(["k"]) as held:
        held.finished.add("k")
    async with lock.hold_free(["k"]) as again:
        assert again.keys == {"k"}
        assert not again.done
