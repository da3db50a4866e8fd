"""ASGI entry for uvicorn (`vidplat serve` points its workers here)."""

from __future__ import annotations

import gc

from litestar import Litestar

from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.entrypoints.logs import configure_logging
from vidplat.settings import Settings


def app_factory() -> Litestar:
    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(bootstrap(settings))
    # What exists now (modules, routes, the wiring) lives as long as the process. Frozen, it is
    # out of the collector's sight, so an oldest-generation pass no longer walks all of it: under
    # load such a pass stalled the event loop for over 100 ms.
    gc.collect()
    gc.freeze()
    return app
