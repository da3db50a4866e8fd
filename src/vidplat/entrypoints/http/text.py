"""The text the API accepts: no control characters, refused at the boundary the same on every wiring.

PostgreSQL cannot store a NUL in text (the request would end in a 500) while SQLite stores it,
and no C0 control character belongs in a name, an email or a search. Descriptions keep tab and
line breaks. Request bodies carry these as msgspec constraints (which also document them in the
OpenAPI schema), query parameters as Litestar `pattern`s, and form fields go through `checked`.
"""

from __future__ import annotations

import re

from msgspec import Meta, ValidationError

from vidplat.domain.errors import InvalidInput

MESSAGE = "must not contain control characters"
# Python `re` and ECMAScript (the OpenAPI document) read these escapes the same way.
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"  # tab, LF and CR allowed
Line = Meta(pattern=LINE_PATTERN)
Multiline = Meta(pattern=MULTILINE_PATTERN)

_AT_FIELD = re.compile(r"^(?P<message>.*) - at `\$\.(?P<field>[A-Za-z_]\w*)`$")
_FORBIDDEN_IN_LINE = frozenset(map(chr, [*range(0x20), 0x7F]))
_FORBIDDEN_IN_MULTILINE = _FORBIDDEN_IN_LINE - {"\t", "\n", "\r"}


def checked(value: str | None, field: str, *, multiline: bool = False) -> str | None:
    """The value of a field that no msgspec type decoded (a form field); InvalidInput if it has control characters."""
    forbidden = _FORBIDDEN_IN_MULTILINE if multiline else _FORBIDDEN_IN_LINE
    if value is not None and not forbidden.isdisjoint(value):
        raise InvalidInput(field, MESSAGE)
    return value


def explained(message: str) -> str:
    """A validation message in words: msgspec words a failed pattern as the regex's repr."""
    return MESSAGE if repr(LINE_PATTERN) in message or repr(MULTILINE_PATTERN) in message else message


def invalid_body(exc: ValidationError) -> InvalidInput:
    """A body msgspec decoded by hand, refused as Litestar refuses its own: by field, in words."""
    text = str(exc)
    found = _AT_FIELD.match(text)
    if found is None:
        return InvalidInput("body", text)
    return InvalidInput(found["field"], explained(found["message"]))
