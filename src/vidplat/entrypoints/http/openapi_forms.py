"""OpenAPI request bodies for the routes that read their body as a stream."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIFormat, OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from vidplat.domain.videos.model import MAX_DESCRIPTION, MAX_TITLE

_TEXT_FIELDS = {
    "title": Schema(type=OpenAPIType.STRING, min_length=1, max_length=MAX_TITLE),
    "description": Schema(type=OpenAPIType.STRING, max_length=MAX_DESCRIPTION),
}
_FILE = Schema(
    type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description="The video (MP4, MOV, WebM or Matroska)"
)
_ORDER_NOTE = "Text fields must come before `file` in the form, as with S3 POST uploads."


def _form(*, required: list[str]) -> OpenAPIMediaType:
    return OpenAPIMediaType(
        schema=Schema(
            type=OpenAPIType.OBJECT,
            properties={**_TEXT_FIELDS, "file": _FILE},
            required=required,
            description=_ORDER_NOTE,
        )
    )


# Litestar builds each Operation passing `request_body=None` for a handler without a `data`
# parameter, so a field default would never be used: the body is filled in after init instead.


@dataclass
class UploadOperation(Operation):
    def __post_init__(self) -> None:
        if self.request_body is None:
            self.request_body = RequestBody(
                content={"multipart/form-data": _form(required=["title", "file"])}, required=True
            )


@dataclass
class EditOperation(Operation):
    def __post_init__(self) -> None:
        if self.request_body is None:
            self.request_body = RequestBody(
                content={
                    "application/json": OpenAPIMediaType(
                        schema=Schema(type=OpenAPIType.OBJECT, properties=dict(_TEXT_FIELDS))
                    ),
                    "multipart/form-data": _form(required=[]),
                },
                required=True,
            )
