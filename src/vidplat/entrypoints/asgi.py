"""ASGI entry for uvicorn (`vidplat serve` points its workers here)."""

from __future__ import annotations

import logging

from litestar import Litestar

from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.settings import Settings


def app_factory() -> Litestar:
    settings = Settings.from_env()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return create_app(bootstrap(settings))
