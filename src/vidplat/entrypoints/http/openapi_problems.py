"""The error answers of each operation, documented as the problem details they really are.

Litestar documents a 400 with its own exception shape by default; `problems(...)` replaces it
and adds each status an operation can answer, each listing the stable `code`s it can carry, so
clients (and the schema fuzzing in CI) see exactly what the API sends.
"""

from __future__ import annotations

from http import HTTPStatus

from litestar.openapi import ResponseSpec

from vidplat.domain.errors import DomainError
from vidplat.entrypoints.http.problems import CODES_BY_STATUS, PROBLEM_JSON, Problem, status_of

# Any operation may meet a malformed request or a backing service that is down.
_ALWAYS = {400: ("bad_request", "malformed_request"), 503: ("service_unavailable",)}


def problems(*answers: int | type[DomainError]) -> dict[int, ResponseSpec]:
    """Problem-details responses, plus 400 and 503.

    A status stands for every code of that status; an error class adds its status with only the
    codes of the classes given for it.
    """
    codes: dict[int, set[str]] = {status: set(generic) for status, generic in _ALWAYS.items()}
    named: dict[int, set[str]] = {}
    for answer in answers:
        if isinstance(answer, int):
            codes[answer] = set(CODES_BY_STATUS.get(answer, ()))
        else:
            named.setdefault(status_of(answer), set()).add(answer.code)
    codes |= named
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=f"{HTTPStatus(status).phrase}. Codes: {', '.join(f'`{c}`' for c in sorted(found))}",
            generate_examples=False,
        )
        for status, found in sorted(codes.items())
    }


def bare(description: str) -> ResponseSpec:
    """A documented answer without a body (a stream's 304)."""
    return ResponseSpec(data_container=None, description=description, generate_examples=False)
