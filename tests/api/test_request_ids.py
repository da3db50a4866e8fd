"""Request ids: echoed on every response, on every log line of the request and of the job it enqueued."""

from __future__ import annotations

import re

from tests.api.helpers import Api
from tests.log_capture import captured_logs


async def test_a_sane_client_request_id_is_echoed_and_an_unsafe_one_replaced(api: Api) -> None:
    given = await api.client.get("/health", headers={"X-Request-ID": "edge-7f3a.b_c-1"})
    unsafe = await api.client.get("/health", headers={"X-Request-ID": "a b\nc"})
    too_long = await api.client.get("/health", headers={"X-Request-ID": "a" * 129})
    none = await api.client.get("/api/v1/nowhere")

    assert given.headers["x-request-id"] == "edge-7f3a.b_c-1"
    for response in (unsafe, too_long, none):
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]), response.headers
    assert none.status_code == 404
    assert len({r.headers["x-request-id"] for r in (unsafe, too_long, none)}) == 3


async def test_the_lines_of_an_upload_and_of_its_processing_job_carry_the_request_id(api: Api) -> None:
    admin = await api.signup()
    with captured_logs() as logs:
        response = await api.client.post(
            "/api/v1/videos",
            data={"title": "Traced"},
            files={"file": ("clip.mp4", api.mp4(), "video/mp4")},
            headers={**admin.auth, "X-Request-ID": "upload-42"},
        )
        assert response.status_code == 202, response.text
        video = await api.wait_ready(admin, response.json()["id"])

    assert response.headers["x-request-id"] == "upload-42"
    lines = logs.lines()
    mine = [line for line in lines if line.get("request_id") == "upload-42"]
    accepted = [line for line in mine if line.get("domain_event") == "upload_accepted"]
    ready = [line for line in mine if line.get("domain_event") == "video_ready"]
    assert len(accepted) == 1, lines
    assert accepted[0]["video_id"] == video["id"]
    assert accepted[0]["organization_id"] == admin.org_id
    assert accepted[0]["user_id"] == admin.user_id
    assert len(ready) == 1, lines  # logged once, from inside the job
    assert ready[0]["job"] == "process_video"
    assert ready[0]["video_id"] == video["id"]
    if api.wiring == "production":  # SAQ's own lines about the job, in the worker, carry it too
        processing = [line for line in mine if line["logger"] == "saq" and line["event"].startswith("Processing")]
        assert [line["job"] for line in processing] == ["process_video"], lines
