"""Liveness, readiness and the API documentation."""

from __future__ import annotations

import re

from tests.api.helpers import Api

# Every path of API.md, with path parameters written as {}.
CONTRACT_PATHS = {
    "/health": {"get"},
    "/ready": {"get"},
    "/api/v1/organizations": {"post"},
    "/api/v1/organizations/me": {"get"},
    "/api/v1/plans": {"get"},
    "/api/v1/organizations/me/subscription": {"post"},
    "/api/v1/organizations/me/subscriptions": {"get"},
    "/api/v1/auth/login": {"post"},
    "/api/v1/auth/refresh": {"post"},
    "/api/v1/auth/logout": {"post"},
    "/api/v1/users/me": {"get", "delete"},
    "/api/v1/users/me/password": {"put"},
    "/api/v1/users/me/points": {"get"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/users/{}": {"get", "patch", "delete"},
    "/api/v1/videos": {"get", "post"},
    "/api/v1/videos/deleted": {"get"},
    "/api/v1/videos/{}": {"get", "patch", "delete"},
    "/api/v1/videos/{}/restore": {"post"},
    "/api/v1/videos/{}/stream": {"get"},
    "/api/v1/videos/{}/playback": {"post"},
    "/api/v1/videos/{}/thumbnail": {"get"},
    "/api/v1/videos/{}/hls/master.m3u8": {"get"},
    "/api/v1/videos/{}/hls/{}/{}": {"get"},
    "/api/v1/videos/{}/storyboard.vtt": {"get"},
    "/api/v1/videos/{}/viewers": {"get"},
    "/api/v1/organizations/me/leaderboard": {"get"},
}


async def test_health_answers_ok(api: Api) -> None:
    response = await api.client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_answers_ok_when_every_backend_is_reachable(api: Api) -> None:
    response = await api.client.get("/ready")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ok"


async def test_docs_serve_an_html_page(api: Api) -> None:
    response = await api.client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")


async def test_openapi_document_is_3_1_and_lists_every_contract_path(api: Api) -> None:
    response = await api.client.get("/docs/openapi.json")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    documented = {
        re.sub(r"\{[^}]+\}", "{}", path.rstrip("/") or "/"): {method.lower() for method in operations}
        for path, operations in document["paths"].items()
    }
    for path, methods in CONTRACT_PATHS.items():
        assert path in documented, path
        assert methods <= documented[path], (path, documented[path])
