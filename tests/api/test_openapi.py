"""The OpenAPI document: valid OpenAPI 3.1, every operation explained, every stable error code listed."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate

from tests.api.helpers import Api
from tests.api.test_health import CONTRACT_PATHS
from vidplat.domain.errors import DomainError
from vidplat.entrypoints.http.openapi_descriptions import DESCRIPTIONS

METHODS = {"get", "put", "post", "delete", "patch", "head"}


async def document(api: Api) -> dict[str, Any]:
    response = await api.client.get("/docs/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_the_document_passes_the_openapi_validator(api: Api) -> None:
    validate(await document(api))


async def test_every_operation_has_a_summary_and_one_tag(api: Api) -> None:
    for method, path, operation in operations(await document(api)):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("tags", [])) == 1, (method, path, operation.get("tags"))


async def test_every_contract_operation_is_described(api: Api) -> None:
    described = {
        (m, re.sub(r"\{[^}]+\}", "{}", p)): o.get("description") for m, p, o in operations(await document(api))
    }
    for path, methods in CONTRACT_PATHS.items():
        for method in methods:
            assert described[(method.upper(), path)], (method, path)
    assert all(DESCRIPTIONS.values())


async def test_problem_code_enumerates_every_domain_error_code(api: Api) -> None:
    doc = await document(api)
    enum = set(doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    pending, codes = [DomainError], set()
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        codes.add(kind.code)

    assert codes <= enum, codes - enum
    assert {"malformed_request", "internal_error", "range_not_satisfiable", "signup_closed"} <= enum


async def test_each_error_response_names_the_codes_it_can_carry(api: Api) -> None:
    doc = await document(api)
    enum = set(doc["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    for method, path, operation in operations(doc):
        for status, response in operation["responses"].items():
            if "application/problem+json" not in response.get("content", {}):
                continue  # a success, or /ready's own report
            named = re.findall(r"`([a-z_]+)`", response["description"])
            assert named, (method, path, status)
            assert set(named) <= enum, (method, path, status, set(named) - enum)
    signup = doc["paths"]["/api/v1/organizations"]["post"]["responses"]
    assert "`organization_name_taken`" in signup["409"]["description"]
    assert "`signup_closed`" in signup["403"]["description"]


async def test_password_rules_and_stream_refusals_are_documented(api: Api) -> None:
    doc = await document(api)
    password = doc["components"]["schemas"]["SignUpBody"]["properties"]["admin_password"]
    stream = doc["paths"]["/api/v1/videos/{video_id}/stream"]["get"]["responses"]

    assert (password["minLength"], password["maxLength"]) == (8, 128)
    for status in ("412", "416"):
        assert "application/problem+json" in stream[status]["content"], status
