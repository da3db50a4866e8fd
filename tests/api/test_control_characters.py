"""Control characters in text fields and queries: a 422 at the boundary on both wirings, nothing stored.

PostgreSQL refuses a NUL in text (the request used to end in a 500) and SQLite stored it.
"""

from __future__ import annotations

import pytest

from tests.api.helpers import PASSWORD, Api, assert_problem, unique

BAD = ["\x00", "\x07", "\x1b", "\x7f", "\n"]
VIDEOS = "/api/v1/videos"


def _field_error(response_json: dict[str, object], field: str) -> None:
    assert response_json["errors"] == [{"field": field, "message": "must not contain control characters"}]


@pytest.mark.parametrize("bad", BAD, ids=repr)
@pytest.mark.parametrize("field", ["name", "admin_email"])
async def test_signup_refuses_control_characters(api: Api, field: str, bad: str) -> None:
    body = {"name": unique("Org"), "admin_email": "ada@example.com", "admin_password": PASSWORD}
    body[field] = f"{body[field][:2]}{bad}{body[field][2:]}"

    response = await api.client.post("/api/v1/organizations", json=body)

    _field_error(assert_problem(response, 422, "validation_error"), field)
    assert (await api.client.get("/api/v1/plans")).status_code == 200


@pytest.mark.parametrize("field", ["organization", "email"])
async def test_login_refuses_a_nul_in_the_organization_or_email(api: Api, field: str) -> None:
    admin = await api.signup()
    body = {"organization": admin.org_slug, "email": admin.email, "password": admin.password}
    body[field] += "\x00"

    response = await api.client.post("/api/v1/auth/login", json=body)

    _field_error(assert_problem(response, 422, "validation_error"), field)


async def test_creating_a_user_refuses_a_nul_in_the_email(api: Api) -> None:
    admin = await api.signup()

    response = await api.client.post("/api/v1/users", json={"email": "bob\x00@example.com"}, headers=admin.auth)

    _field_error(assert_problem(response, 422, "validation_error"), "email")


@pytest.mark.parametrize("path", ["/api/v1/users", VIDEOS])
async def test_searches_refuse_a_nul_in_q(api: Api, path: str) -> None:
    admin = await api.signup()

    response = await api.client.get(path, params={"q": "a\x00b"}, headers=admin.auth)

    _field_error(assert_problem(response, 422, "validation_error"), "q")
    assert (await api.client.get(path, params={"q": "ab"}, headers=admin.auth)).status_code == 200


async def test_video_title_and_description_refuse_control_characters_but_not_line_breaks(api: Api) -> None:
    admin = await api.signup()
    video = (await api.upload(admin, api.mp4(), "Clip")).json()
    url = f"{VIDEOS}/{video['id']}"

    for body, field in [({"title": "a\x00b"}, "title"), ({"description": "a\x00b"}, "description")]:
        _field_error(assert_problem(await api.client.patch(url, json=body, headers=admin.auth), 422, None), field)
    kept = await api.client.patch(url, json={"description": "line one\n\tline two\r\n"}, headers=admin.auth)

    assert kept.status_code == 200, kept.text
    assert kept.json()["description"] == "line one\n\tline two\r\n"
    assert (await api.client.get(url, headers=admin.auth)).json()["title"] == "Clip"


@pytest.mark.parametrize("field", ["title", "description"])
async def test_an_upload_form_refuses_a_nul_in_its_text_fields(api: Api, field: str) -> None:
    admin = await api.signup()
    fields = {"title": "Clip", "description": "About it", field: "bad\x00value"}

    response = await api.upload(admin, api.mp4(), fields["title"], description=fields["description"])

    _field_error(assert_problem(response, 422, "validation_error"), field)
    listed = await api.client.get(VIDEOS, headers=admin.auth)
    assert listed.json()["total"] == 0
    assert await api.stored_keys() == []
