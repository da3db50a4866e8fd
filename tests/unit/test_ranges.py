"""RFC 9110 conditional requests and single byte ranges, as planned by `plan_response`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from vidplat.entrypoints.http.ranges import ByteRange, Plan, plan_response

ETAG = '"v1-abc"'
MODIFIED = datetime(2025, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
MODIFIED_HTTP = "Tue, 04 Mar 2025 05:06:07 GMT"
EARLIER_HTTP = "Tue, 04 Mar 2025 05:06:06 GMT"
LATER_HTTP = "Tue, 04 Mar 2025 05:06:08 GMT"
SIZE = 1000


def plan(size: int = SIZE, method: str = "GET", **headers: str) -> Plan:
    """Plan a response; header keyword names use underscores for dashes (`if_none_match`)."""
    sent = {name.replace("_", "-"): value for name, value in headers.items()}
    return plan_response(method=method, headers=sent, size=size, etag=ETAG, last_modified=MODIFIED)


def ranged(value: str, size: int = SIZE, **headers: str) -> Plan:
    return plan(size, Range=value, **headers)


def assert_full(result: Plan, size: int = SIZE) -> None:
    assert result.status == 200
    assert result.range is None
    assert result.headers["Content-Length"] == str(size)
    assert "Content-Range" not in result.headers


# --- every plan -----------------------------------------------------------------------------------


def test_a_plain_get_serves_the_full_representation_with_validators() -> None:
    result = plan()

    assert result == Plan(
        200,
        None,
        {"Accept-Ranges": "bytes", "ETag": ETAG, "Last-Modified": MODIFIED_HTTP, "Content-Length": "1000"},
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Range": "bytes=0-1"}, {"Range": "bytes=5000-"}, {"If-None-Match": ETAG}, {"If-Match": '"other"'}],
    ids=["200", "206", "416", "304", "412"],
)
def test_every_plan_carries_accept_ranges_etag_and_last_modified(headers: dict[str, str]) -> None:
    result = plan_response(method="GET", headers=headers, size=SIZE, etag=ETAG, last_modified=MODIFIED)

    assert result.headers["Accept-Ranges"] == "bytes"
    assert result.headers["ETag"] == ETAG
    assert result.headers["Last-Modified"] == MODIFIED_HTTP


def test_last_modified_is_reported_in_gmt_whatever_the_stored_zone() -> None:
    paris = MODIFIED.astimezone(timezone(timedelta(hours=1)))

    result = plan_response(method="GET", headers={}, size=1, etag=ETAG, last_modified=paris)

    assert result.headers["Last-Modified"] == MODIFIED_HTTP


def test_header_names_are_matched_case_insensitively() -> None:
    result = plan_response(method="get", headers={"RANGE": "bytes=0-9"}, size=SIZE, etag=ETAG, last_modified=MODIFIED)

    assert result.status == 206


def test_a_naive_last_modified_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plan_response(method="GET", headers={}, size=1, etag=ETAG, last_modified=datetime(2025, 1, 1))  # noqa: DTZ001


def test_an_etag_that_is_not_quoted_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="entity tag"):
        plan_response(method="GET", headers={}, size=1, etag="abc", last_modified=MODIFIED)


# --- ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("bytes=0-499", 0, 499),
        ("bytes=500-999", 500, 999),
        ("bytes=0-0", 0, 0),
        ("bytes=999-999", 999, 999),
        ("bytes=999-", 999, 999),
        ("bytes=500-", 500, 999),
        ("bytes=0-", 0, 999),
        ("bytes=-1", 999, 999),
        ("bytes=-500", 500, 999),
        ("bytes=-1000", 0, 999),
        ("bytes=-5000", 0, 999),
        ("bytes=900-5000", 900, 999),
        ("bytes=0-999999999999999999", 0, 999),
        ("BYTES=10-19", 10, 19),
        ("bytes= 10-19 ", 10, 19),
        ("bytes=10-19,", 10, 19),
        ("bytes=, 10-19", 10, 19),
        ("bytes=0000010-0019", 10, 19),
    ],
)
def test_a_single_range_gets_206_with_its_content_range(value: str, start: int, end: int) -> None:
    result = ranged(value)

    assert result.status == 206
    assert result.range == ByteRange(start, end)
    assert result.headers["Content-Range"] == f"bytes {start}-{end}/1000"
    assert result.headers["Content-Length"] == str(end - start + 1)


def test_a_byte_range_knows_its_length() -> None:
    assert ByteRange(0, 0).length == 1
    assert ByteRange(10, 19).length == 10


def test_a_one_byte_file_serves_its_only_byte() -> None:
    result = ranged("bytes=-10", size=1)

    assert result.range == ByteRange(0, 0)
    assert result.headers["Content-Range"] == "bytes 0-0/1"


def test_head_honours_range_like_get() -> None:
    result = plan(method="HEAD", Range="bytes=0-9")

    assert result.status == 206
    assert result.headers["Content-Length"] == "10"


def test_other_methods_ignore_range() -> None:
    assert_full(plan(method="POST", Range="bytes=0-9"))


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("bytes=1000-", SIZE),
        ("bytes=1000-1000", SIZE),
        ("bytes=5000-6000", SIZE),
        ("bytes=-0", SIZE),
        ("bytes=0-", 0),
        ("bytes=0-0", 0),
        ("bytes=-5", 0),
        ("bytes=-0", 0),
    ],
)
def test_an_unsatisfiable_range_gets_416_with_the_size(value: str, size: int) -> None:
    result = ranged(value, size=size)

    assert result.status == 416
    assert result.range is None
    assert result.headers["Content-Range"] == f"bytes */{size}"
    assert "Content-Length" not in result.headers


def test_an_empty_file_without_range_is_a_full_empty_200() -> None:
    assert_full(plan(size=0), size=0)


@pytest.mark.parametrize(
    "value",
    [
        "bytes=500-100",
        "bytes=abc",
        "bytes=-",
        "bytes=",
        "bytes=1-2-3",
        "bytes=+1-2",
        "bytes=1.5-2",
        "bytes=\uff10-1",  # fullwidth zero
        "bytes=٣-9",
        "bytes 0-1",
        "0-1",
        "",
        "items=0-1",
        "bytes=0 - 1",
        "bytes=0-1;q=1",
        'bytes="0-1"',
    ],
)
def test_a_malformed_range_is_ignored(value: str) -> None:
    assert_full(ranged(value))


@pytest.mark.parametrize(
    "value",
    [
        "bytes=0-1,5-9",
        "bytes=0-0,-1",
        "bytes=0-1,5000-6000",
        "bytes=0-499,500-999",
        "bytes=" + ",".join(f"{i}-{i}" for i in range(1000)),
        "bytes=" + "," * 5000 + "0-1",
    ],
    ids=["two", "first-and-last", "one-unsatisfiable", "adjacent", "1000-ranges", "5000-empty-elements"],
)
def test_several_ranges_get_the_full_representation(value: str) -> None:
    assert_full(ranged(value))


@pytest.mark.parametrize(
    "value",
    [
        "bytes=0-" + "9" * 20,
        "bytes=" + "1" * 20 + "-",
        "bytes=-" + "9" * 20,
        "bytes=" + "9" * 10_000 + "-",
    ],
    ids=["huge-last", "huge-first", "huge-suffix", "ten-thousand-digits"],
)
def test_numbers_longer_than_19_digits_are_ignored(value: str) -> None:
    assert_full(ranged(value))


def test_a_19_digit_number_is_still_a_number() -> None:
    assert ranged("bytes=" + "9" * 19 + "-").status == 416


# --- If-None-Match and If-Modified-Since ----------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [ETAG, f"W/{ETAG}", "*", f'"x", {ETAG}', f'"x",{ETAG} , "y"', f'W/"x", W/{ETAG}', f" {ETAG} "],
    ids=["same", "weak", "star", "in-list", "list-without-spaces", "weak-list", "padded"],
)
def test_a_matching_if_none_match_gets_304(value: str) -> None:
    result = plan(If_None_Match=value)

    assert result.status == 304
    assert result.range is None
    assert result.headers == {"Accept-Ranges": "bytes", "ETag": ETAG, "Last-Modified": MODIFIED_HTTP}


def test_head_also_gets_304() -> None:
    assert plan(method="HEAD", If_None_Match=ETAG).status == 304


@pytest.mark.parametrize("value", ['"other"', '"x", "y"', '"V1-ABC"', "v1-abc", "", "garbage", 'W/"v1-ab"'], ids=repr)
def test_a_mismatching_if_none_match_serves_the_content(value: str) -> None:
    assert_full(plan(If_None_Match=value))


def test_a_matching_if_none_match_wins_over_range() -> None:
    assert plan(If_None_Match=ETAG, Range="bytes=0-1").status == 304


def test_a_mismatching_if_none_match_still_honours_range() -> None:
    assert plan(If_None_Match='"old"', Range="bytes=0-1").status == 206


def test_a_matching_if_none_match_on_an_unsafe_method_fails_the_precondition() -> None:
    assert plan(method="PUT", If_None_Match=ETAG).status == 412


@pytest.mark.parametrize("value", [MODIFIED_HTTP, LATER_HTTP, "Tuesday, 04-Mar-25 05:06:07 GMT"], ids=repr)
def test_if_modified_since_at_or_after_last_modified_gets_304(value: str) -> None:
    assert plan(If_Modified_Since=value).status == 304


@pytest.mark.parametrize("value", [EARLIER_HTTP, "not a date", "", "Tue, 99 Mar 2025 05:06:07 GMT"], ids=repr)
def test_if_modified_since_before_last_modified_or_invalid_serves_the_content(value: str) -> None:
    assert_full(plan(If_Modified_Since=value))


def test_if_modified_since_is_ignored_when_if_none_match_is_present() -> None:
    assert_full(plan(If_None_Match='"old"', If_Modified_Since=LATER_HTTP))


def test_if_modified_since_is_ignored_for_unsafe_methods() -> None:
    assert plan(method="POST", If_Modified_Since=LATER_HTTP).status == 200


def test_if_modified_since_compares_at_one_second_precision() -> None:
    # MODIFIED has 890 ms; the client's copy from the same second is not older.
    assert plan(If_Modified_Since=MODIFIED_HTTP).status == 304


# --- If-Match and If-Unmodified-Since -------------------------------------------------------------


@pytest.mark.parametrize("value", ['"other"', f"W/{ETAG}", '"x", "y"', "garbage", ""], ids=repr)
def test_a_failing_if_match_gets_412(value: str) -> None:
    result = plan(If_Match=value, Range="bytes=0-1")

    assert result.status == 412
    assert result.range is None
    assert "Content-Length" not in result.headers


@pytest.mark.parametrize("value", [ETAG, "*", f'"x", {ETAG}'], ids=repr)
def test_a_strongly_matching_if_match_lets_the_request_through(value: str) -> None:
    assert plan(If_Match=value, Range="bytes=0-1").status == 206


def test_if_match_is_checked_before_if_none_match() -> None:
    assert plan(If_Match='"other"', If_None_Match=ETAG).status == 412


def test_if_unmodified_since_before_last_modified_gets_412() -> None:
    assert plan(If_Unmodified_Since=EARLIER_HTTP).status == 412


@pytest.mark.parametrize("value", [MODIFIED_HTTP, LATER_HTTP, "not a date"], ids=repr)
def test_if_unmodified_since_at_or_after_last_modified_or_invalid_passes(value: str) -> None:
    assert plan(If_Unmodified_Since=value).status == 200


def test_if_unmodified_since_is_ignored_when_if_match_is_present() -> None:
    assert plan(If_Match=ETAG, If_Unmodified_Since=EARLIER_HTTP).status == 200


# --- If-Range -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [ETAG, MODIFIED_HTTP, f" {ETAG} "], ids=repr)
def test_a_matching_if_range_lets_the_range_apply(value: str) -> None:
    result = ranged("bytes=0-9", If_Range=value)

    assert result.status == 206
    assert result.range == ByteRange(0, 9)


@pytest.mark.parametrize(
    "value",
    ['"other"', f"W/{ETAG}", f'"x", {ETAG}', EARLIER_HTTP, LATER_HTTP, "not a date", "", "*", '"unterminated'],
    ids=repr,
)
def test_a_mismatching_if_range_serves_the_full_representation(value: str) -> None:
    assert_full(ranged("bytes=0-9", If_Range=value))


def test_a_weak_current_etag_never_satisfies_if_range() -> None:
    weak = 'W/"v1-abc"'

    result = plan_response(
        method="GET", headers={"Range": "bytes=0-9", "If-Range": weak}, size=SIZE, etag=weak, last_modified=MODIFIED
    )

    assert result.status == 200


def test_a_mismatching_if_range_does_not_turn_an_unsatisfiable_range_into_416() -> None:
    assert_full(ranged("bytes=5000-", If_Range='"other"'))


def test_if_range_without_range_is_ignored() -> None:
    assert_full(plan(If_Range='"other"'))


# --- robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Range": "bytes=\x00-\xff"},
        {"If-Modified-Since": "Mon, 01 Jan 99999 00:00:00 GMT"},
        {"If-Modified-Since": "Mon, 01 Jan 0000 00:00:00 GMT"},
        {"If-Modified-Since": "Mon, 01 Jan 2000 25:61:61 GMT"},
        {"If-Unmodified-Since": "Mon, 01 Jan 2000 00:00:00 +9999"},
        {"If-Range": "Mon, 01 Jan 2000 00:00:00 -0000", "Range": "bytes=0-1"},
        {"If-None-Match": '"' * 10_001},
        {"If-Match": 'W/"' * 1000},
        {"Range": "bytes=" + "-" * 10_000},
    ],
    ids=repr,
)
def test_hostile_headers_never_raise(headers: dict[str, str]) -> None:
    result = plan_response(method="GET", headers=headers, size=SIZE, etag=ETAG, last_modified=MODIFIED)

    assert result.status in {200, 206, 304, 412, 416}
