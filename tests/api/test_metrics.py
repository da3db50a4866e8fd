"""`GET /metrics`: behind the operators' credentials, parsed by prometheus_client's own parser."""

from __future__ import annotations

import base64

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.api.helpers import Api

OPS = {"VIDPLAT_OPS_USER": "ops", "VIDPLAT_OPS_PASSWORD": "metrics-password"}
OPS_AUTH = {"Authorization": "Basic " + base64.b64encode(b"ops:metrics-password").decode()}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def _scrape(api: Api) -> Samples:
    response = await api.client.get("/metrics", headers=OPS_AUTH)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value, 0 when it does not exist yet (counters appear at their first increment)."""
    return sum(value for (found, have), value in samples.items() if found == name and set(labels.items()) <= have)


async def test_metrics_are_not_served_without_operator_credentials_configured(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 404
    assert (await api.client.get("/metrics", headers=OPS_AUTH)).status_code == 404


@pytest.mark.api_settings(**OPS)
async def test_metrics_refuse_wrong_or_missing_credentials_and_bearer_tokens(api: Api) -> None:
    admin = await api.signup()
    wrong = {"Authorization": "Basic " + base64.b64encode(b"ops:guess").decode()}
    for headers in ({}, wrong, admin.auth):
        response = await api.client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Basic")


@pytest.mark.api_settings(**OPS)
async def test_metrics_count_requests_by_route_template_and_what_the_platform_did(api: Api) -> None:
    admin = await api.signup()
    before = await _scrape(api)
    video = await api.upload_ready(admin)
    member = await api.create_member(admin)
    assert (await api.stream(member, video["id"], {"Range": "bytes=0-9"})).status_code == 206
    await api.settled()  # the credit commits beside the response
    await api.subscribe(admin)
    assert (await api.client.get(f"/api/v1/videos/{video['id']}")).status_code == 401
    assert (await api.client.get(f"/api/v1/nowhere/{video['id']}")).status_code == 404
    after = await _scrape(api)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    template = "/api/v1/videos/{video_id}"
    assert grew("vidplat_http_requests_total", path=template, method="GET", status_code="200") >= 1
    assert grew("vidplat_http_request_duration_seconds_count", path=template) >= 1
    assert grew("vidplat_http_requests_total", path=template, status_code="401") == 1  # refused by a middleware
    assert grew("vidplat_http_requests_total", path="(unrouted)", status_code="404") == 1
    assert not [key for key in after if video["id"] in str(key)], "a raw path became a label"
    assert grew("vidplat_uploads_total") == 1
    assert grew("vidplat_videos_processed_total", outcome="ready") == 1
    assert grew("vidplat_video_processing_seconds_count") == 1
    assert grew("vidplat_jobs_total", function="process_video", outcome="complete") == 1
    assert grew("vidplat_job_duration_seconds_count", function="process_video", outcome="complete") == 1
    assert grew("vidplat_view_credits_total") == 1
    assert grew("vidplat_subscription_changes_total", change="activated") == 1
