"""Log lines: one format for every logger, JSON on request, context bound, tokens never written."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from structlog.contextvars import bound_contextvars

from tests.log_capture import captured_logs
from vidplat.domain import events
from vidplat.domain.events import EVENTS
from vidplat.entrypoints.logs import QuietCron, configure_logging

TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2lnbmF0dXJl"
ACCESS_FORMAT = '%s - "%s %s HTTP/%s" %d'  # uvicorn's access line


def _access_line(path: str) -> None:
    logging.getLogger("uvicorn.access").info(ACCESS_FORMAT, "127.0.0.1:50000", "GET", path, "1.1", 206)


def test_json_lines_parse_and_carry_time_level_logger_and_the_bound_context() -> None:
    with captured_logs() as logs, bound_contextvars(request_id="req-1", organization_id="org-1"):
        _access_line("/api/v1/videos")
        logging.getLogger("vidplat.somewhere").warning("disk %s", "almost full")

    access, warning = logs.lines()
    assert access["logger"] == "uvicorn.access"
    assert access["event"] == '127.0.0.1:50000 - "GET /api/v1/videos HTTP/1.1" 206'
    assert warning == {
        "event": "disk almost full",
        "level": "warning",
        "logger": "vidplat.somewhere",
        "request_id": "req-1",
        "organization_id": "org-1",
        "timestamp": warning["timestamp"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", warning["timestamp"])


def test_console_lines_start_with_a_timestamp_and_show_the_bound_context() -> None:
    with captured_logs(log_format="console") as logs, bound_contextvars(request_id="req-2"):
        colored = "Started server process [\x1b[36m%d\x1b[0m]"  # uvicorn adds it for its own formatter
        logging.getLogger("uvicorn.error").info("Started server process [%d]", 42, extra={"color_message": colored})

    (line,) = logs.text.splitlines()
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[info\s*\] Started server process \[42\]", line)
    assert "request_id=req-2" in line
    assert "color_message" not in line


def test_a_token_never_reaches_a_line_in_a_path_a_field_or_a_traceback() -> None:
    with captured_logs() as logs:
        _access_line(f"/api/v1/videos/1/stream?token={TOKEN}")
        _access_line(f"/api/v1/videos/1/hls/master.m3u8?a=1&token={TOKEN}&b=2")
        logging.getLogger("x").info("calling", extra={"url": f"/thumbnail?token={TOKEN}"})
        try:
            raise ValueError(f"bad header Bearer {TOKEN}")
        except ValueError:
            logging.getLogger("x").exception("failed")

    assert TOKEN not in logs.text
    lines = logs.lines()
    assert lines[0]["event"].endswith('"GET /api/v1/videos/1/stream?token=[redacted] HTTP/1.1" 206')
    assert "?a=1&token=[redacted]&b=2" in lines[1]["event"]
    assert lines[2]["url"] == "/thumbnail?token=[redacted]"
    assert "Bearer [redacted]" in lines[3]["exception"]


def test_domain_events_carry_their_name_and_fields() -> None:
    with captured_logs() as logs:
        events.record("video_ready", "video ready", video_id="v-1", processing_seconds=1.5)

    (line,) = logs.lines()
    assert line["event"] == "video ready"
    assert line["domain_event"] == "video_ready"
    assert line["video_id"] == "v-1"
    assert line["processing_seconds"] == 1.5


@pytest.fixture
def quiet_saq() -> Iterator[logging.Logger]:
    saq = logging.getLogger("saq")
    quiet = QuietCron()
    saq.addFilter(quiet)
    try:
        yield saq
    finally:
        saq.removeFilter(quiet)


def test_saq_cron_announcements_are_debug_lines_and_real_jobs_stay_info(quiet_saq: logging.Logger) -> None:
    with captured_logs() as logs:
        quiet_saq.info("Enqueuing %s", "Job<function=expire_subscriptions, key=cron:expire_subscriptions>")
        quiet_saq.info("Scheduled %s", ["vidplat:jobs:job:cron:fail_stuck_uploads"])
        quiet_saq.info("Processing %s", "Job<function=process_video, key=process_video:orgs/1/x>")
    (kept,) = logs.lines()
    assert kept["event"] == "Processing Job<function=process_video, key=process_video:orgs/1/x>"

    with captured_logs(level=logging.DEBUG) as logs:
        quiet_saq.info("Finished %s", "Job<function=expire_subscriptions, key=cron:expire_subscriptions>")
    assert [line["level"] for line in logs.lines()] == ["debug"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: put it back for the other tests."""
    root, saq = logging.getLogger(), logging.getLogger("saq")
    handlers, level, filters, events_level = list(root.handlers), root.level, list(saq.filters), EVENTS.level
    try:
        yield
    finally:
        root.handlers[:], saq.filters[:] = handlers, filters
        root.setLevel(level)
        EVENTS.setLevel(events_level)


@pytest.mark.usefixtures("restored_logging")
def test_configured_logging_shows_events_at_the_level_but_records_them_below_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("WARNING", "json")
    configure_logging("WARNING", "json")  # again: still one handler, one filter

    events.record("views_credited", "views credited", level=logging.DEBUG, count=3)
    logging.getLogger("vidplat.x").warning("shown")

    assert len(logging.getLogger().handlers) == 1
    assert sum(isinstance(f, QuietCron) for f in logging.getLogger("saq").filters) == 1
    assert EVENTS.isEnabledFor(logging.DEBUG)  # what metrics count does not depend on the level shown
    assert capsys.readouterr().err.count("\n") == 1
