"""Liveness, readiness."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.openapi import ResponseSpec

from vidplat.bootstrap import Check
from vidplat.entrypoints.http.schemas import HealthOut, ReadyOut
from vidplat.entrypoints.http.security import NO_TOKEN, PUBLIC

CHECK_TIMEOUT_SECONDS = 2.0


class HealthController(Controller):
    tags = ["health"]
    opt = {PUBLIC: True}
    security = NO_TOKEN

    @get("/health", summary="The process is up")
    async def health(self) -> HealthOut:
        return HealthOut(status="ok")

    @get(
        "/ready",
        responses={
            503: ResponseSpec(
                ReadyOut, description="The failing parts are `down` (or `full`: storage)", generate_examples=False
            )
        },
        summary="Database, lock backend and job queue are reachable",
    )
    async def ready(self, request: Request[Any, Any, Any]) -> Response[ReadyOut]:
        checks: dict[str, Check] = request.app.state.checks
        results = await asyncio.gather(*(_run(check) for check in checks.values()))
        report = {name: _state(result) for name, result in zip(checks, results, strict=True)}
        healthy = all(state == "ok" for state in report.values())
        body = ReadyOut(status="ok" if healthy else "unavailable", checks=report)
        return Response(body, status_code=200 if healthy else 503)


def _state(result: bool | str) -> str:
    """A check says True (ok), False (down), or a word for what is wrong ("full")."""
    if isinstance(result, str):
        return result
    return "ok" if result else "down"


async def _run(check: Check) -> bool | str:
    try:
        return await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
    except Exception:  # a check that errors is a failing part, reported as "down"
        return False
