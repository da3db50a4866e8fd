"""Background: work left running after an answer is finished, or at worst cancelled, when the process stops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from vidplat.domain.background import Background


async def test_settled_waits_for_the_work_and_for_work_it_spawned_meanwhile() -> None:
    background, gate, done = Background(), asyncio.Event(), []

    async def later() -> None:
        await gate.wait()
        done.append("later")

    async def first() -> None:
        background.spawn(later(), "later")
        done.append("first")

    background.spawn(first(), "first")
    settling = asyncio.create_task(background.settled())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert done == ["first"]
    assert not settling.done()

    gate.set()
    await settling
    assert done == ["first", "later"]
    assert background.pending == 0


async def test_drain_finishes_what_completes_within_the_grace() -> None:
    background, gate = Background(), asyncio.Event()
    finished = asyncio.Event()

    async def work() -> None:
        await gate.wait()
        finished.set()

    background.spawn(work(), "work")
    draining = asyncio.create_task(background.drain(60))
    await asyncio.sleep(0)
    gate.set()
    await draining

    assert finished.is_set()
    assert background.pending == 0


async def test_drain_cancels_what_is_still_pending_after_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()
    stuck = background.spawn(asyncio.Event().wait(), "stuck")

    await background.drain(0)

    assert stuck.cancelled()
    assert background.pending == 0
    assert "1 background tasks unfinished" in caplog.text


async def test_a_failure_is_logged_and_raised_to_nobody(caplog: pytest.LogCaptureFixture) -> None:
    background = Background()

    async def broken() -> None:
        raise RuntimeError("ledger unavailable")

    with caplog.at_level(logging.ERROR):
        background.spawn(broken(), "broken")
        await background.settled()

    assert "background task broken failed" in caplog.text
    assert "ledger unavailable" in caplog.text
