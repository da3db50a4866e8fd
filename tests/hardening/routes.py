"""The app's own route table as (route, method) operations, classified by who may call them.

Everything here is derived from the running app, so a route added tomorrow is covered by the
matrix without anyone listing it; a route the matrix cannot classify fails the suite.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from vidplat.entrypoints.http.metrics import METRICS_PATH
from vidplat.entrypoints.http.ops import OPS_PATH
from vidplat.entrypoints.http.security import PUBLIC, admin_only, authentication

_PARAMETER = re.compile(r"\{(\w+):(\w+)\}")


class Access(Enum):
    PUBLIC = "public"  # marked opt={"public": True}
    DOCS = "docs"  # the OpenAPI document and its renderers
    OPS = "ops"  # the operators' monitor and metrics, behind their own HTTP Basic guard
    AUTHENTICATED = "authenticated"  # the bearer-token middleware runs first
    PREFLIGHT = "preflight"  # Litestar's automatic OPTIONS: skips authentication (CORS), answers `Allow` only
    UNGUARDED = "unguarded"  # none of the above: a hole


@dataclass(frozen=True, slots=True)
class Operation:
    path: str  # as routed, with typed parameters: /api/v1/videos/{video_id:uuid}
    method: str
    handler: HTTPRouteHandler
    access: Access

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def id_parameters(self) -> list[str]:
        """Path parameters that name an object by its UUID."""
        return [name for name, kind in _PARAMETER.findall(self.path) if kind == "uuid"]

    @property
    def openapi_path(self) -> str:
        return _PARAMETER.sub(r"{\1}", self.path)

    @property
    def admin_only(self) -> bool:
        return any(getattr(guard, "func", guard) is admin_only for guard in self.handler.resolve_guards())

    @property
    def automatic(self) -> bool:
        """Litestar's generated OPTIONS handler: it answers `Allow` and touches no data."""
        return self.method == "OPTIONS" and self.handler.handler_name == "options_handler"

    def url(self, values: Mapping[str, str]) -> str:
        """The path with every parameter filled from `values`; other text parameters get a placeholder."""
        return _PARAMETER.sub(lambda m: values.get(m.group(1), "x"), self.path)


def operations(app: Litestar) -> list[Operation]:
    """Every (route, method) the app answers, in route-table order."""
    found: list[Operation] = []
    for route in app.routes:
        assert isinstance(route, HTTPRoute), f"unexpected {type(route).__name__} at {route.path}: classify it here"
        for handler in route.route_handlers:
            found.extend(
                Operation(route.path, method, handler, _access(app, route.path, method, handler))
                for method in sorted(handler.http_methods)
            )
    return found


def _access(app: Litestar, path: str, method: str, handler: HTTPRouteHandler) -> Access:
    if handler.opt.get(PUBLIC):
        return Access.PUBLIC
    if path in (OPS_PATH, METRICS_PATH) or path.startswith(f"{OPS_PATH}/"):
        # The monitor and the metrics are never reachable without credentials, not even their automatic
        # OPTIONS answers.
        return Access.OPS if handler.resolve_guards() else Access.UNGUARDED
    if method in (authentication.kwargs.get("exclude_http_methods") or ("OPTIONS",)):
        automatic = method == "OPTIONS" and handler.handler_name == "options_handler"
        return Access.PREFLIGHT if automatic else Access.UNGUARDED
    excluded = any(re.search(pattern, path) for pattern in authentication.kwargs["exclude"])
    if not excluded:
        assert authentication in handler.resolve_middleware(), f"{path}: the authentication middleware is not mounted"
        return Access.AUTHENTICATED
    docs = app.openapi_config.path if app.openapi_config else None
    if docs and (path == docs or path.startswith(f"{docs}/")):
        return Access.DOCS
    return Access.UNGUARDED


# --- request bodies from the OpenAPI document --------------------------------------------------


def request_bodies(openapi: Mapping[str, Any], operation: Operation, video: bytes) -> Iterator[dict[str, Any]]:
    """httpx keyword arguments for each documented request body of the operation; one empty request if none."""
    spec = openapi["paths"].get(operation.openapi_path, {}).get(operation.method.lower(), {})
    content = spec.get("requestBody", {}).get("content", {})
    if not content:
        yield {}
    for media_type, declared in content.items():
        schema = _resolve(openapi, declared.get("schema", {}))
        if media_type == "application/json":
            yield {"json": minimal_json(openapi, schema)}
        elif media_type == "multipart/form-data":
            yield {"files": _form(openapi, schema, video)}
        elif media_type == "application/offset+octet-stream":  # tus: the next bytes of the file
            yield {"content": video[:64]}
        else:
            raise AssertionError(f"{operation.label}: no sample body for {media_type}")


def minimal_json(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> Any:
    """A small value valid for the schema: required properties only, examples where given."""
    schema = _resolve(openapi, schema)
    if "examples" in schema:
        return schema["examples"][0]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [_resolve(openapi, s) for s in schema[key]]
            return minimal_json(openapi, next((s for s in options if s.get("type") != "null"), options[0]))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: minimal_json(openapi, properties[name]) for name in schema.get("required", [])}
    samples = {"string": _string(schema), "integer": 1, "number": 1.0, "boolean": False, "array": [], "null": None}
    return samples[kind]


def _string(schema: Mapping[str, Any]) -> str:
    formats = {"uuid": str(uuid.uuid4()), "email": "someone@example.com", "date-time": "2025-01-01T00:00:00Z"}
    return str(formats.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1))))


def _form(openapi: Mapping[str, Any], schema: Mapping[str, Any], video: bytes) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, declared in schema.get("properties", {}).items():
        if declared.get("format") == "binary":
            fields[name] = ("clip.mp4", video, "video/mp4")
        else:
            fields[name] = (None, str(minimal_json(openapi, declared)))
    return fields


def _resolve(openapi: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = openapi["components"]["schemas"][name]
    return schema
