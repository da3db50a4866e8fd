"""Resumable uploads (tus 1.0.0) through the wired app: the protocol, completion, termination and expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.helpers import Api, assert_problem
from tests.api.tus_client import OCTETS, TUS, append, create, created, offset_of

ALSO_ON_S3 = True


def _tus_keys(keys: list[str]) -> list[str]:
    return [key for key in keys if "/tus/" in key]


async def test_options_advertises_the_protocol_without_credentials(api: Api) -> None:
    response = await api.client.options("/api/v1/uploads")
    assert response.status_code == 204, response.headers
    assert response.headers["tus-resumable"] == "1.0.0"
    assert response.headers["tus-version"] == "1.0.0"
    assert response.headers["tus-extension"] == "creation,creation-with-upload,termination,expiration"
    assert int(response.headers["tus-max-size"]) == api.container.settings.max_upload_bytes


async def test_upload_in_chunks_becomes_a_processing_video(api: Api) -> None:
    admin = await api.signup()
    data = api.mp4()
    path = await created(api, admin, len(data), title="Resumed", description="In two pieces")
    assert path.startswith("/api/v1/uploads/")
    assert await offset_of(api, admin, path) == 0
    half = len(data) // 2
    first = await append(api, admin, path, 0, data[:half])
    assert first.status_code == 204, first.text
    assert first.headers["upload-offset"] == str(half)
    assert "video-id" not in first.headers
    assert await offset_of(api, admin, path) == half
    last = await append(api, admin, path, half, data[half:])
    assert last.status_code == 204, last.text
    assert last.headers["upload-offset"] == str(len(data))
    video_id = last.headers["video-id"]
    video = await api.wait_ready(admin, video_id)
    assert (video["status"], video["title"], video["description"]) == ("ready", "Resumed", "In two pieces")
    body = (await api.client.get(path, headers=admin.auth)).json()
    assert (body["offset"], body["length"], body["video_id"]) == (len(data), len(data), video_id)
    streamed = await api.stream(admin, video_id)
    assert streamed.content == data
    assert _tus_keys(await api.stored_keys()) == []


async def test_creation_with_upload_stores_the_first_bytes(api: Api) -> None:
    admin = await api.signup()
    data = api.mp4()
    headers = {**admin.auth, **OCTETS, "Upload-Length": str(len(data)), "Upload-Metadata": "title VGl0bGU="}
    response = await api.client.post("/api/v1/uploads", headers=headers, content=data[:100])
    assert response.status_code == 201, response.text
    assert response.headers["upload-offset"] == "100"
    assert await offset_of(api, admin, response.headers["location"]) == 100


async def test_replacing_a_video_file_through_tus(api: Api) -> None:
    admin = await api.signup()
    original = await api.upload_ready(admin)
    data = api.mp4(width=96, height=64)
    path = await created(api, admin, len(data), video_id=original["id"])
    last = await append(api, admin, path, 0, data)
    assert last.headers["video-id"] == original["id"]
    video = await api.wait_ready(admin, original["id"])
    assert (video["width"], video["height"]) == (96, 64)


async def test_patch_at_the_wrong_offset_is_a_conflict(api: Api) -> None:
    admin = await api.signup()
    path = await created(api, admin, 1000)
    assert (await append(api, admin, path, 0, b"\0" * 10)).status_code == 204
    assert_problem(await append(api, admin, path, 0, b"\0" * 10), 409, "offset_mismatch")
    assert_problem(await append(api, admin, path, 20, b"\0" * 10), 409, "offset_mismatch")
    assert await offset_of(api, admin, path) == 10


async def test_requests_without_tus_resumable_are_refused_with_412(api: Api) -> None:
    admin = await api.signup()
    path = await created(api, admin, 1000)
    headers = {**admin.auth, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    refused = await api.client.patch(path, content=b"x", headers=headers)
    assert_problem(refused, 412, "tus_version_unsupported")
    assert refused.headers["tus-version"] == "1.0.0"
    assert refused.headers["tus-resumable"] == "1.0.0"
    wrong = await api.client.head(path, headers={**admin.auth, "Tus-Resumable": "0.2.2"})
    assert (wrong.status_code, wrong.headers["tus-version"]) == (412, "1.0.0")
    assert await offset_of(api, admin, path) == 0


async def test_patch_with_another_content_type_is_refused_with_415(api: Api) -> None:
    admin = await api.signup()
    path = await created(api, admin, 1000)
    headers = {**admin.auth, **TUS, "Content-Type": "application/octet-stream", "Upload-Offset": "0"}
    assert_problem(await api.client.patch(path, content=b"x", headers=headers), 415, "unsupported_content_type")


@pytest.mark.api_settings(VIDPLAT_MAX_UPLOAD_BYTES=4096)
async def test_upload_over_the_limit_is_refused_with_413(api: Api) -> None:
    admin = await api.signup()
    assert_problem(await create(api, admin, 4097, title="Big"), 413, "file_too_large")
    path = await created(api, admin, 10)
    assert_problem(await append(api, admin, path, 0, b"\0" * 11), 413, "file_too_large")
    assert await offset_of(api, admin, path) == 0


async def test_creation_needs_a_title_and_a_length(api: Api) -> None:
    admin = await api.signup()
    assert_problem(await create(api, admin, 10, filename="a.mp4"), 422, "validation_error")
    headers = {**admin.auth, **TUS, "Upload-Metadata": "title VGl0bGU="}
    assert_problem(await api.client.post("/api/v1/uploads", headers=headers), 422, "validation_error")


async def test_another_organizations_upload_is_not_found(api: Api) -> None:
    admin, stranger = await api.signup(), await api.signup()
    path = await created(api, admin, 1000)
    assert (await api.client.head(path, headers={**stranger.auth, **TUS})).status_code == 404
    assert_problem(await append(api, stranger, path, 0, b"x"), 404, "upload_not_found")
    assert_problem(await api.client.get(path, headers=stranger.auth), 404, "upload_not_found")
    assert_problem(await api.client.delete(path, headers={**stranger.auth, **TUS}), 404, "upload_not_found")
    assert await offset_of(api, admin, path) == 0


async def test_members_cannot_upload(api: Api) -> None:
    admin = await api.signup()
    member = await api.create_member(admin)
    assert_problem(await create(api, member, 10, title="No"), 403, "admin_required")


async def test_bytes_that_are_not_a_video_are_refused_and_nothing_is_kept(api: Api) -> None:
    admin = await api.signup()
    junk = b"not a video at all " * 100
    path = await created(api, admin, len(junk))
    assert_problem(await append(api, admin, path, 0, junk), 415, "unsupported_media")
    assert_problem(await api.client.get(path, headers=admin.auth), 404, "upload_not_found")
    assert _tus_keys(await api.stored_keys()) == []
    videos = (await api.client.get("/api/v1/videos", headers=admin.auth)).json()
    assert videos["total"] == 0


async def test_terminated_upload_is_gone_with_its_bytes(api: Api) -> None:
    admin = await api.signup()
    path = await created(api, admin, 1000)
    assert (await append(api, admin, path, 0, b"\0" * 10)).status_code == 204
    # The bytes themselves (a temporary file, a multipart upload) are checked in test_sql_resumable_uploads.
    response = await api.client.delete(path, headers={**admin.auth, **TUS})
    assert response.status_code == 204
    assert response.headers["tus-resumable"] == "1.0.0"
    assert (await api.client.head(path, headers={**admin.auth, **TUS})).status_code == 404
    assert _tus_keys(await api.stored_keys()) == []


async def test_expired_upload_is_not_found_and_its_bytes_are_removed(api: Api) -> None:
    admin = await api.signup()
    path = await created(api, admin, 1000)
    assert (await append(api, admin, path, 0, b"\0" * 10)).status_code == 204
    expires = (await api.client.get(path, headers=admin.auth)).json()["expires_at"]
    assert expires
    api.clock.advance(timedelta(hours=24, seconds=1))
    admin = await api.again(admin)  # the access token expired too
    assert_problem(await append(api, admin, path, 10, b"\0" * 10), 404, "upload_not_found")
    assert await api.run(api.container.use_cases.expire_uploads) == 1
    assert _tus_keys(await api.stored_keys()) == []
    assert_problem(await api.client.get(path, headers=admin.auth), 404, "upload_not_found")


GIB = 1024**3


@pytest.mark.api_settings(VIDPLAT_MAX_UPLOAD_BYTES=20 * GIB)
async def test_creation_past_the_storage_quota_is_refused_and_reservations_count(api: Api) -> None:
    admin = await api.signup()  # TRIAL: 10 GiB
    assert_problem(await create(api, admin, 10 * GIB + 1, title="Huge"), 403, "quota_exceeded")
    data = api.mp4()
    await created(api, admin, 10 * GIB - len(data), title="Most of it")
    assert_problem(await create(api, admin, len(data) + 1, title="One byte too many"), 403, "quota_exceeded")
    small = await created(api, admin, len(data), title="The rest")
    usage = (await api.client.get("/api/v1/organizations/me", headers=admin.auth)).json()["usage"]
    assert usage["storage_bytes"] == 10 * GIB
    # Completing counts the file in place of its reservation, not on top of it.
    last = await append(api, admin, small, 0, data)
    assert last.status_code == 204, last.text
    assert (await api.wait_ready(admin, last.headers["video-id"]))["status"] == "ready"
