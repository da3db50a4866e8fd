"""The one mapping from errors to RFC 9457 problem details."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
from http import HTTPStatus
from types import CodeType
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.params import KwargDefinition
from litestar.serialization.msgspec_hooks import decode_json
from litestar.types import ExceptionHandlersMap

import vidplat.domain
from vidplat.domain import errors as e
from vidplat.entrypoints.http.text import explained
from vidplat.entrypoints.http.validation import allowed_values

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# Litestar reports errors about the body as a whole under the handler's parameter name, with the
# field in the message: "Object missing required field `email`", "Object contains unknown field `x`".
_BODY_PARAMETER = "data"
_NAMED_FIELD = re.compile(r"field `([^`]+)`")

_STATUS_BY_KIND: tuple[tuple[type[e.DomainError], int], ...] = (
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.Forbidden, 403),
    (e.Unauthenticated, 401),
    (e.Rejected, 400),
    (e.InvalidInput, 422),
    (e.TooManyAttempts, 429),
    (e.PayloadTooLarge, 413),
    (e.UnsupportedMedia, 415),
    (e.Unavailable, 503),
    (e.StorageFull, 507),
)

_CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",  # a body over Litestar's limit; uploads over theirs are `file_too_large`
    415: "unsupported_media",
    416: "range_not_satisfiable",
    422: "validation_error",
    429: "too_many_requests",
    503: "service_unavailable",
    507: "storage_full",
}


# Codes only the HTTP layer sends, beside the generic one of each status above.
_HTTP_CODES = {
    400: ("malformed_request",),
    412: ("tus_version_unsupported",),  # entrypoints/http/tus_headers.py
    415: ("unsupported_content_type",),  # a tus PATCH that is not application/offset+octet-stream
    431: ("headers_too_large",),
    500: ("internal_error",),
}


def status_of(kind: type[e.DomainError]) -> int:
    """The HTTP status of a domain error class: that of the first kind it is (400 for the base)."""
    return next((status for base, status in _STATUS_BY_KIND if issubclass(kind, base)), 400)


def _codes_by_status() -> dict[int, tuple[str, ...]]:
    """Every stable code, by status: the DomainError classes' own (so new ones appear by themselves) and HTTP's."""
    # Errors may be defined beside their use case (domain/pagination.py): import the whole (pure) domain first.
    for module in pkgutil.walk_packages(vidplat.domain.__path__, "vidplat.domain."):
        importlib.import_module(module.name)
    found: dict[int, set[str]] = {}
    pending: list[type[e.DomainError]] = [e.DomainError]
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        found.setdefault(status_of(kind), set()).add(kind.code)
    for status, code in _CODE_BY_STATUS.items():
        found.setdefault(status, set()).add(code)
    for status, codes in _HTTP_CODES.items():
        found.setdefault(status, set()).update(codes)
    return {status: tuple(sorted(codes)) for status, codes in sorted(found.items())}


CODES_BY_STATUS = _codes_by_status()
ALL_CODES = sorted({code for codes in CODES_BY_STATUS.values() for code in codes})


class FieldProblem(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """RFC 9457 problem details with a stable machine `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: Annotated[
        str,
        KwargDefinition(
            description="Stable machine code; each operation's error responses list the ones they can carry.",
            schema_extra={"enum": ALL_CODES},
        ),
    ]
    errors: list[FieldProblem] | None = None


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    body = Problem(
        type=f"https://vidplat.dev/problems/{code.replace('_', '-')}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        code=code,
        errors=errors,
    )
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain(_: Request[Any, Any, Any], exc: e.DomainError) -> Response[Problem]:
    status = status_of(type(exc))
    headers = None
    if isinstance(exc, e.TooManyAttempts):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if isinstance(exc, e.Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    errors = [FieldProblem(f.field, f.message) for f in exc.errors] if isinstance(exc, e.InvalidInput) else None
    return problem(status, exc.code, exc.detail, errors=errors, headers=headers)


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Field-level failures are 422 naming their fields (and an enum's values); an unreadable body is a plain 400."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    fields = [
        _field_problem(request, _field_name(item), explained(str(item.get("message", "is invalid"))))
        for item in extra
        if isinstance(item, dict) and item.get("key")
    ]
    if fields:
        detail = "; ".join(f"{f.field}: {f.message}" for f in fields)
        return problem(422, "validation_error", _safe_detail(detail, "The request is not valid."), errors=fields)
    return problem(400, "malformed_request", _safe_detail(exc.detail, "The request body could not be read."))


def _field_problem(request: Request[Any, Any, Any], field: str, message: str) -> FieldProblem:
    if message.startswith("Invalid enum value"):
        values = allowed_values(request.route_handler, field)
        if values:
            message = f"must be one of: {', '.join(values)} ({message[len('Invalid enum value ') :]} is not)"
    return FieldProblem(field, message)


def _field_name(item: dict[str, Any]) -> str:
    """The failing field; Litestar keys whole-body errors (missing or unknown field) by its own parameter name."""
    key = str(item["key"])
    if key != _BODY_PARAMETER:
        return key
    named = _NAMED_FIELD.search(str(item.get("message", "")))
    return named.group(1) if named else "body"


def _http(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return _internal(_, exc)
    detail = _safe_detail(exc.detail, HTTPStatus(status).phrase)
    return problem(status, _CODE_BY_STATUS.get(status, "error"), detail, headers=exc.headers)


def _internal(_: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "An unexpected error occurred; it has been logged.")


def _undecodable(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """msgspec raises UnicodeDecodeError (invalid UTF-8) and RecursionError (absurd nesting) for a JSON body,
    which Litestar's decode_json does not turn into its own 400: the client's fault, unless raised elsewhere."""
    if not _raised_in(exc, decode_json.__code__):
        return _internal(request, exc)
    return problem(400, "malformed_request", "The request body is not valid JSON (UTF-8, reasonably nested).")


def _raised_in(exc: BaseException, code: CodeType) -> bool:
    frame = exc.__traceback__
    while frame is not None:
        if frame.tb_frame.f_code is code:
            return True
        frame = frame.tb_next
    return False


def _safe_detail(detail: str, fallback: str) -> str:
    """Framework messages can echo input; keep them short and single-line."""
    text = " ".join(detail.split())
    return text[:200] if text else fallback


exception_handlers: ExceptionHandlersMap = {
    e.DomainError: _domain,
    ValidationException: _validation,
    HTTPException: _http,
    UnicodeDecodeError: _undecodable,
    RecursionError: _undecodable,
    Exception: _internal,
}
