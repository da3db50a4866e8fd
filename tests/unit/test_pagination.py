"""Cursors: what a page hands out comes back as the same key; anything else is invalid_cursor."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from vidplat.domain.errors import InvalidInput
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Cursor, InvalidCursor, PageRequest


def test_a_cursor_round_trips_to_the_microsecond() -> None:
    cursor = Cursor((datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), datetime.min.replace(tzinfo=UTC)), new_id())
    token = cursor.encode()
    assert Cursor.decode(token) == cursor
    assert token.isascii()
    assert "=" not in token


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-cursor",
        "%%%",
        "é",
        _b64(b"2025-03-01T12:00:00+00:00"),  # no id
        _b64(str(new_id()).encode()),  # no time
        _b64(b"2025-03-01T12:00:00|" + str(new_id()).encode()),  # no offset: not one we hand out
        _b64(b"yesterday|" + str(new_id()).encode()),
        _b64(b"2025-03-01T12:00:00+00:00|not-a-uuid"),
        _b64(b"\xff\xfe|x"),
        _b64(b"a|b|c"),
    ],
)
def test_a_malformed_cursor_is_invalid(token: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        Cursor.decode(token)
    assert raised.value.code == "invalid_cursor"
    assert [e.field for e in raised.value.errors] == ["cursor"]


def test_a_cursor_and_an_offset_do_not_mix() -> None:
    after = Cursor((datetime.now(UTC),), new_id())
    with pytest.raises(InvalidInput):
        PageRequest(offset=1, after=after)
    assert PageRequest(after=after).offset == 0
