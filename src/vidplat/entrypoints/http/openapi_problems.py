"""The error answers of each operation, documented as the problem details they really are.

Litestar documents a 400 with its own exception shape by default; `problems(...)` replaces it
and adds each status an operation can answer, so clients (and the schema fuzzing in CI) see
exactly what the API sends.
"""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi import ResponseSpec

from vidplat.entrypoints.http.problems import PROBLEM_JSON, Problem

# Any operation may meet a malformed request or a backing service that is down.
_ALWAYS = (400, 503)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """Problem-details responses for these statuses, plus 400 and 503."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in sorted({*_ALWAYS, *statuses})
    }


def bare(description: str) -> ResponseSpec:
    """A documented answer without a body (304, 412 and 416 of a stream)."""
    return ResponseSpec(data_container=None, description=description, generate_examples=False)
