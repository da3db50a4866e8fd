"""What a failing field accepts, read off the handler's signature, so a 422 can say it."""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

import msgspec
from litestar.handlers.base import BaseRouteHandler

_BODY_PARAMETER = "data"


def allowed_values(handler: BaseRouteHandler, field: str) -> tuple[str, ...] | None:
    """The values of the enum behind `field` (a query/path parameter or a body field), if it is one."""
    parameters = handler.parsed_fn_signature.parameters
    annotations: list[Any] = []
    if field in parameters:
        annotations.append(parameters[field].annotation)
    if _BODY_PARAMETER in parameters:
        body = _enum_or_type(parameters[_BODY_PARAMETER].annotation)
        if isinstance(body, type) and issubclass(body, msgspec.Struct):
            annotations.append(typing.get_type_hints(body).get(field))
    for annotation in annotations:
        found = _enum_or_type(annotation)
        if isinstance(found, type) and issubclass(found, Enum):
            return tuple(str(member.value) for member in found)
    return None


def _enum_or_type(annotation: Any) -> Any:
    """Through Annotated[...] and X | None to the enum (or the one type) inside."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _enum_or_type(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [_enum_or_type(arg) for arg in typing.get_args(annotation) if arg is not type(None)]
        enums = [arg for arg in inner if isinstance(arg, type) and issubclass(arg, Enum)]
        return enums[0] if enums else (inner[0] if len(inner) == 1 else annotation)
    return annotation
