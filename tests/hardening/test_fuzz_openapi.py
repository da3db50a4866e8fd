"""Schemathesis against /docs/openapi.json: every documented operation, fuzzed as a member and as an admin.

Each operation gets a bounded, derandomized set of valid and invalid requests (hypothesis), half of
them aimed at real objects of the caller's organization. Every answer must be documented: no 5xx,
a documented status and content type, and a body that matches the documented schema.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.python.asgi import ASGIClient, get_client, shutdown_lifespans
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.hardening.actors import PASSWORD, Tenant, add_ready_video, add_user, expect, sign_up, unique
from tests.hardening.report import record
from tests.hardening.wiring import JWT_SECRET, PLAYBACK_SECRET, Backend, build_app, saq_worker, serving
from vidplat.bootstrap import bootstrap
from vidplat.entrypoints.http.app import create_app
from vidplat.settings import Settings

T = TypeVar("T")

MAX_EXAMPLES = 25
# tus PATCH and creation-with-upload bodies: raw bytes, which schemathesis cannot derive from a schema.
schemathesis.openapi.media_type("application/offset+octet-stream", st.binary(max_size=256))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# Operations that end the caller's session or account: each example runs as a fresh user.
SELF_DESTRUCTIVE = {
    ("POST", "/api/v1/auth/logout"),
    ("DELETE", "/api/v1/users/me"),
    ("PUT", "/api/v1/users/me/password"),
}


def _documented_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the OpenAPI document, read from an app that is never started."""
    settings_env = {"VIDPLAT_DATA_DIR": tempfile.gettempdir(), "VIDPLAT_JWT_SECRET": JWT_SECRET}
    settings_env["VIDPLAT_PLAYBACK_SECRET"] = PLAYBACK_SECRET
    document = create_app(bootstrap(Settings.from_env(settings_env))).openapi_schema.to_schema()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _documented_operations()


@dataclass(frozen=True, slots=True)
class RealObjects:
    """Ids of the caller's organization to put in path parameters, instead of random ones."""

    kept: dict[str, str]
    by_operation: dict[tuple[str, str], dict[str, str]]

    def ids(self, method: str, path: str) -> dict[str, str]:
        return {**self.kept, **self.by_operation.get((method, path), {})}


@dataclass(frozen=True, slots=True)
class Target:
    wiring: str
    schema: schemathesis.BaseSchema
    client: ASGIClient
    tenant: Tenant
    admin_token: str
    member_token: str
    real: RealObjects
    examples: dict[str, Counter[int]]  # answers seen per role

    def headers(self, role: str, method: str, path: str) -> dict[str, str]:
        if (method, path) in SELF_DESTRUCTIVE:
            token = self._fresh_user(role)
        else:
            token = self.admin_token if role == "admin" else self.member_token
        return {"Authorization": f"Bearer {token}"}

    def _fresh_user(self, role: str) -> str:
        email = f"{unique(role)}@example.com"
        admin = {"Authorization": f"Bearer {self.admin_token}"}
        created = self.client.post(
            "/api/v1/users", json={"email": email, "password": PASSWORD, "role": role}, headers=admin
        )
        assert created.status_code == 201, created.text
        body = {"organization": self.tenant.slug, "email": email, "password": PASSWORD}
        tokens = self.client.post("/api/v1/auth/login", json=body)
        assert tokens.status_code == 200, tokens.text
        token: str = tokens.json()["access_token"]
        return token


async def _prepare(backend: Backend, video: bytes) -> tuple[Tenant, RealObjects]:
    """An organization with videos and members to aim the fuzzed ids at."""
    async with serving(backend) as api, saq_worker(backend):
        client = api.client
        tenant = await sign_up(client)
        # Self-destructive operations get a fresh user per example: more than TRIAL's 50 users.
        upgrade = {"plan": "PAID"}
        expect(
            await client.post("/api/v1/organizations/me/subscription", json=upgrade, headers=tenant.admin.headers), 201
        )
        await add_user(client, tenant)
        kept, expendable, trashed = [await add_ready_video(client, tenant, video) for _ in range(3)]
        expect(await client.delete(f"/api/v1/videos/{trashed}", headers=tenant.admin.headers), 204)
        member, victim = await add_user(client, tenant), await add_user(client, tenant)
        return tenant, RealObjects(
            kept={"video_id": kept, "user_id": member.user_id},
            # Deleting or restoring ends an object's life: those operations get their own.
            by_operation={
                ("DELETE", "/api/v1/videos/{video_id}"): {"video_id": expendable},
                ("POST", "/api/v1/videos/{video_id}/restore"): {"video_id": trashed},
                ("DELETE", "/api/v1/users/{user_id}"): {"user_id": victim.user_id},
                ("PATCH", "/api/v1/users/{user_id}"): {"user_id": victim.user_id},
            },
        )


def _in_own_loop(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a fresh event loop on another thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@pytest.fixture(scope="module")
def target(backend: Backend, sample_mp4: bytes) -> Iterator[Target]:
    tenant, real = _in_own_loop(lambda: _prepare(backend, sample_mp4))
    app, _ = build_app(backend)
    # Schemathesis serves the app in one event loop thread of its own, lifespan included.
    schema = schemathesis.openapi.from_asgi("/docs/openapi.json", app)
    schema.config.generation.update(with_security_parameters=False)  # the tests send the credentials
    try:
        with get_client(cast("Any", app)) as client:  # Litestar types its ASGI callable more narrowly
            target = Target(
                backend.wiring.value,
                schema,
                client,
                tenant,
                tenant.admin.access_token,
                tenant.member.access_token,
                real,
                {"member": Counter(), "admin": Counter()},
            )
            yield target
            for role, answers in target.examples.items():
                spread = " ".join(f"{status}x{count}" for status, count in sorted(answers.items()))
                line = (
                    f"[{target.wiring}] {len(OPERATIONS)} operations as {role}: {answers.total()} examples ({spread})"
                )
                record("schemathesis", line)
    finally:
        shutdown_lifespans()


@pytest.mark.parametrize("role", ["member", "admin"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_operation_answers_as_documented(target: Target, role: str, method: str, path: str) -> None:
    operation = target.schema[path][method]
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    statuses: Counter[int] = Counter()
    real_ids = target.real.ids(method, path)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
    )
    @given(case=strategy)
    def answers_as_documented(case: Case[Any]) -> None:
        # Every other example aims at real objects, unless its path is the part made invalid.
        if statuses.total() % 2 and case.path_parameters and not _negated(case, ParameterLocation.PATH):
            case.path_parameters = {name: real_ids.get(name, value) for name, value in case.path_parameters.items()}
        response = case.call(session=target.client, headers=target.headers(role, method, path))
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS)

    answers_as_documented()
    target.examples[role].update(statuses)


def _negated(case: Case[Any], location: ParameterLocation) -> bool:
    component = case.meta.components.get(location) if case.meta else None
    return component is not None and component.mode.is_negative


def test_streamed_request_bodies_are_documented(target: Target) -> None:
    """Upload and edit read their bodies as streams; the document must still describe them."""
    paths = target.schema.raw_schema["paths"]
    upload = paths["/api/v1/videos"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["title", "file"]
    edit = paths["/api/v1/videos/{video_id}"]["patch"]["requestBody"]["content"]
    assert set(edit) == {"application/json", "multipart/form-data"}


def test_every_documented_operation_is_fuzzed() -> None:
    paths = {path for _, path in OPERATIONS}
    assert len(OPERATIONS) >= 25, OPERATIONS
    assert "/api/v1/videos/{video_id}/stream" in paths
    record("schemathesis", f"{len(OPERATIONS)} operations x 2 roles x 2 wirings, up to {MAX_EXAMPLES} examples each")
