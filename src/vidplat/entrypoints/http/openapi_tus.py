"""OpenAPI for the tus routes: their answers are headers only, and PATCH bodies are raw bytes."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

_BYTES = {
    "application/offset+octet-stream": OpenAPIMediaType(
        schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
    )
}


def _headers_only(operation: Operation) -> None:
    # Litestar documents a `Response[None]` as a JSON null; these answers have no body at all.
    for status, response in (operation.responses or {}).items():
        if status.startswith("2") and isinstance(response, OpenAPIResponse):
            response.content = None


@dataclass
class TusOperation(Operation):
    def __post_init__(self) -> None:
        _headers_only(self)


@dataclass
class TusBytesOperation(Operation):
    """PATCH: the body is the next bytes of the file."""

    def __post_init__(self) -> None:
        _headers_only(self)
        if self.request_body is None:
            self.request_body = RequestBody(content=dict(_BYTES), required=True)


@dataclass
class TusCreationOperation(Operation):
    """POST: creation, optionally with the first bytes (creation-with-upload)."""

    def __post_init__(self) -> None:
        _headers_only(self)
        if self.request_body is None:
            self.request_body = RequestBody(content=dict(_BYTES), required=False)
