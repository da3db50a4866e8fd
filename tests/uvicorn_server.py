"""The app on a real loopback socket, served by uvicorn in the test's own event loop, for clients that need one."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import uvicorn
from litestar import Litestar

from tests.hardening.servers import free_port
from tests.log_capture import restored_logging


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the test runner owns the signal handlers


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Litestar) -> AsyncIterator[int]:
    """The app on a free loopback port, its lifespan run by uvicorn; yields the port."""
    with restored_logging():  # uvicorn.Config sets its loggers' levels for the whole process
        async with _serving(app) as port:
            yield port


@contextlib.asynccontextmanager
async def _serving(app: Litestar) -> AsyncIterator[int]:
    port = free_port()
    # As `vidplat serve` runs it: uvicorn's lines through the root logger, not its own dictConfig.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None, lifespan="on")
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(30):
            while not server.started:
                if task.done():
                    await task  # raises what stopped it
                await asyncio.sleep(0.02)
        yield port
    finally:
        server.should_exit = True
        await task
