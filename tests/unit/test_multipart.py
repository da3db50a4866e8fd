"""The streaming multipart reader: fields, the streamed file part, limits and malformed bodies."""

from __future__ import annotations

import hashlib
import itertools
import tracemalloc
from typing import TYPE_CHECKING

import pytest

from vidplat.entrypoints.http.multipart import FilePart, MalformedForm, read_form

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable, Iterator

BOUNDARY = "----vidplat-test-boundary"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
ODD_SIZES = (7, 4096, 65537)


def field_part(name: str, value: str | bytes) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"


def file_head(name: str = "file", filename: str = "clip.mp4", content_type: str = "video/mp4") -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()


def file_part(content: bytes, name: str = "file", filename: str = "clip.mp4") -> bytes:
    return file_head(name, filename) + content + b"\r\n"


CLOSING = f"--{BOUNDARY}--\r\n".encode()


def make_body(*parts: bytes) -> bytes:
    return b"".join(parts) + CLOSING


def pieces(data: bytes, sizes: Iterable[int] = ODD_SIZES) -> Iterator[bytes]:
    """Cut `data` into pieces cycling through `sizes`."""
    offset = 0
    for size in itertools.cycle(sizes):
        if offset >= len(data):
            return
        yield data[offset : offset + size]
        offset += size


async def stream(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def body_of(data: bytes, sizes: Iterable[int] = ODD_SIZES) -> AsyncIterator[bytes]:
    return stream(pieces(data, sizes))


async def collect_into(received: list[bytes], chunks: AsyncIterator[bytes]) -> None:
    """Append chunks one by one, so what arrived before an exception stays visible."""
    async for chunk in chunks:
        received.append(chunk)  # noqa: PERF401 (a comprehension would lose them on the exception)


async def drain(part: FilePart) -> bytes:
    return b"".join([chunk async for chunk in part.chunks])


def pseudo_random_bytes(size: int) -> bytes:
    """Deterministic bytes that contain CRs, LFs and dashes, so boundary look-alikes occur."""
    block = hashlib.sha256(b"vidplat").digest() + b"\r\n--" + BOUNDARY[:10].encode() + b"\r\n-"
    return (block * (size // len(block) + 1))[:size]


async def test_text_fields_are_collected_when_there_is_no_file_part() -> None:
    body = make_body(field_part("title", "Intro"), field_part("description", "Ça va? 🎬"))

    fields, file = await read_form(body_of(body), CONTENT_TYPE)

    assert fields == {"title": "Intro", "description": "Ça va? 🎬"}
    assert file is None


async def test_read_form_returns_at_the_file_part_with_the_fields_seen_so_far() -> None:
    body = make_body(field_part("title", "Intro"), file_part(b"video bytes"), field_part("description", "later"))

    fields, file = await read_form(body_of(body, [len(body)]), CONTENT_TYPE)

    assert fields == {"title": "Intro"}
    assert file is not None
    assert (file.field, file.filename, file.content_type) == ("file", "clip.mp4", "video/mp4")


async def test_fields_after_the_file_are_added_to_the_same_dict_once_chunks_are_drained() -> None:
    body = make_body(field_part("title", "Intro"), file_part(b"video bytes"), field_part("description", "later"))
    fields, file = await read_form(body_of(body), CONTENT_TYPE)
    assert file is not None

    content = await drain(file)

    assert content == b"video bytes"
    assert fields == {"title": "Intro", "description": "later"}


@pytest.mark.parametrize("sizes", [(7,), (4096,), (65537,), ODD_SIZES, (1,)], ids=str)
async def test_file_bytes_arrive_identical_whatever_the_chunking(sizes: tuple[int, ...]) -> None:
    content = pseudo_random_bytes(3 * 1024 * 1024 + 5 if sizes != (1,) else 20_000)
    body = make_body(field_part("title", "Big"), file_part(content), field_part("description", "after"))

    fields, file = await read_form(body_of(body, sizes), CONTENT_TYPE)
    assert file is not None

    assert await drain(file) == content
    assert fields == {"title": "Big", "description": "after"}


async def test_an_empty_file_part_streams_no_bytes() -> None:
    body = make_body(file_part(b"", filename=""))

    fields, file = await read_form(body_of(body), CONTENT_TYPE)
    assert file is not None

    assert await drain(file) == b""
    assert file.filename == ""
    assert fields == {}


async def test_the_file_field_name_is_configurable() -> None:
    body = make_body(file_part(b"abc", name="video"))

    _, file = await read_form(body_of(body), CONTENT_TYPE, file_field="video")

    assert file is not None
    assert file.field == "video"
    assert await drain(file) == b"abc"


async def test_filenames_are_returned_as_given() -> None:
    body = make_body(file_part(b"abc", filename="../../etc/passwd ünï.mp4"))

    _, file = await read_form(body_of(body), CONTENT_TYPE)

    assert file is not None
    assert file.filename == "../../etc/passwd ünï.mp4"


async def test_a_file_part_without_content_type_reports_none() -> None:
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'.encode()
    body = make_body(head + b"abc\r\n")

    _, file = await read_form(body_of(body), CONTENT_TYPE)

    assert file is not None
    assert file.content_type is None


async def test_header_names_and_the_content_type_parameters_are_case_insensitive() -> None:
    part = f'--{BOUNDARY}\r\ncontent-disposition: form-data; name="title"\r\n\r\nIntro\r\n'.encode()

    fields, _ = await read_form(body_of(make_body(part)), f'Multipart/Form-Data; charset=utf-8; boundary="{BOUNDARY}"')

    assert fields == {"title": "Intro"}


async def test_an_epilogue_after_the_closing_boundary_is_ignored() -> None:
    body = make_body(field_part("title", "Intro")) + b"trailing epilogue"

    fields, file = await read_form(body_of(body), CONTENT_TYPE)

    assert (fields, file) == ({"title": "Intro"}, None)


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        ("application/json", "expected multipart/form-data"),
        ("application/x-www-form-urlencoded; boundary=x", "expected multipart/form-data"),
        ("", "expected multipart/form-data"),
        ("multipart/form-data", "missing boundary"),
        ("multipart/form-data; boundary=", "missing boundary"),
        ("multipart/form-data; charset=utf-8", "missing boundary"),
        ("multipart/form-data; boundary=" + "x" * 300, "invalid boundary"),
        ("multipart/form-data; boundary=€", "expected multipart/form-data"),
    ],
)
async def test_a_wrong_content_type_is_malformed(content_type: str, message: str) -> None:
    with pytest.raises(MalformedForm, match=f"^{message}$"):
        await read_form(body_of(make_body(field_part("title", "x"))), content_type)


async def test_more_parts_than_allowed_is_malformed() -> None:
    body = make_body(*(field_part(f"f{i}", "x") for i in range(5)))

    with pytest.raises(MalformedForm, match=r"^too many parts$"):
        await read_form(body_of(body, [len(body)]), CONTENT_TYPE, max_parts=4)


async def test_exactly_the_allowed_number_of_parts_is_fine() -> None:
    body = make_body(*(field_part(f"f{i}", "x") for i in range(3)), file_part(b"abc"))

    fields, file = await read_form(body_of(body), CONTENT_TYPE, max_parts=4)
    assert file is not None
    await drain(file)

    assert len(fields) == 3


async def test_too_many_parts_after_the_file_fail_while_draining_chunks() -> None:
    body = make_body(file_part(b"abc"), field_part("a", "1"), field_part("b", "2"))
    _, file = await read_form(body_of(body, [1]), CONTENT_TYPE, max_parts=2)
    assert file is not None

    with pytest.raises(MalformedForm, match=r"^too many parts$"):
        await drain(file)


async def test_a_field_longer_than_the_limit_is_malformed() -> None:
    body = make_body(field_part("title", "x" * 11))

    with pytest.raises(MalformedForm, match=r"^field 'title' is too long$"):
        await read_form(body_of(body), CONTENT_TYPE, max_field_bytes=10)


async def test_a_field_exactly_at_the_limit_is_fine() -> None:
    fields, _ = await read_form(body_of(make_body(field_part("title", "x" * 10))), CONTENT_TYPE, max_field_bytes=10)

    assert fields == {"title": "x" * 10}


async def test_a_huge_field_fails_before_it_is_read_completely() -> None:
    read = 0

    async def endless_field() -> AsyncIterator[bytes]:
        nonlocal read
        yield f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\n'.encode()
        while True:
            read += 4096
            yield b"x" * 4096

    with pytest.raises(MalformedForm, match="too long"):
        await read_form(endless_field(), CONTENT_TYPE)
    assert read <= 64 * 1024 + 4096


async def test_a_duplicate_field_is_malformed() -> None:
    body = make_body(field_part("title", "a"), field_part("title", "b"))

    with pytest.raises(MalformedForm, match=r"^duplicate field 'title'$"):
        await read_form(body_of(body), CONTENT_TYPE)


async def test_a_field_repeated_after_the_file_is_a_duplicate() -> None:
    body = make_body(field_part("title", "a"), file_part(b"abc"), field_part("title", "b"))
    _, file = await read_form(body_of(body), CONTENT_TYPE)
    assert file is not None

    with pytest.raises(MalformedForm, match=r"^duplicate field 'title'$"):
        await drain(file)


async def test_a_second_file_part_is_malformed() -> None:
    body = make_body(file_part(b"one"), file_part(b"two"))
    _, file = await read_form(body_of(body), CONTENT_TYPE)
    assert file is not None

    with pytest.raises(MalformedForm, match=r"^more than one file part$"):
        await drain(file)


async def test_a_file_in_another_field_is_malformed() -> None:
    body = make_body(file_part(b"abc", name="thumbnail"))

    with pytest.raises(MalformedForm, match=r"^unexpected file in field 'thumbnail'$"):
        await read_form(body_of(body), CONTENT_TYPE)


@pytest.mark.parametrize(
    "body",
    [
        field_part("title", "Intro"),
        field_part("title", "Intro")[:-10],
        file_head()[:20],
        f"--{BOUNDARY}".encode(),
        b"",
    ],
    ids=["no-closing-boundary", "mid-field", "mid-headers", "boundary-only", "empty"],
)
async def test_a_truncated_body_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedForm, match=r"^truncated body$"):
        await read_form(body_of(body), CONTENT_TYPE)


async def test_a_body_truncated_inside_the_file_fails_while_draining_chunks() -> None:
    body = file_part(pseudo_random_bytes(100_000))[:-1000]
    _, file = await read_form(body_of(body), CONTENT_TYPE)
    assert file is not None

    with pytest.raises(MalformedForm, match=r"^truncated body$"):
        await drain(file)


async def test_an_empty_form_is_fine() -> None:
    assert await read_form(body_of(CLOSING), CONTENT_TYPE) == ({}, None)


async def test_a_field_that_is_not_utf8_is_malformed() -> None:
    body = make_body(field_part("title", "café".encode("latin-1")))

    with pytest.raises(MalformedForm, match=r"^invalid UTF-8 in field 'title'$"):
        await read_form(body_of(body), CONTENT_TYPE)


async def test_a_utf8_character_split_across_chunks_decodes() -> None:
    body = make_body(field_part("title", "é" * 50))

    fields, _ = await read_form(body_of(body, [3]), CONTENT_TYPE)

    assert fields == {"title": "é" * 50}


@pytest.mark.parametrize(
    "part",
    [
        f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n",
        f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n",
        f'--{BOUNDARY}\r\nContent-Disposition: attachment; name="title"\r\n\r\nx\r\n',
    ],
    ids=["no-disposition", "no-name", "not-form-data"],
)
async def test_a_part_without_a_form_data_name_is_malformed(part: str) -> None:
    with pytest.raises(MalformedForm, match=r"^part without"):
        await read_form(body_of(make_body(part.encode())), CONTENT_TYPE)


@pytest.mark.parametrize(
    "body",
    [
        b"garbage before the boundary\r\n" + make_body(field_part("title", "x")),
        f"--{BOUNDARY}\r\nBad Header: x\r\n\r\nx\r\n".encode() + CLOSING,
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=a\r\n".encode() + b"X-Pad: " + b"y" * 10_000,
    ],
    ids=["preamble", "invalid-header-name", "oversize-header"],
)
async def test_broken_multipart_syntax_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedForm, match=r"^malformed multipart body$"):
        await read_form(body_of(body), CONTENT_TYPE)


class RequestTooLarge(Exception):
    pass


async def failing_after(data: bytes) -> AsyncIterator[bytes]:
    yield data
    raise RequestTooLarge("body over the limit")


async def test_an_exception_from_the_body_propagates_unchanged_from_read_form() -> None:
    with pytest.raises(RequestTooLarge, match="body over the limit"):
        await read_form(failing_after(field_part("title", "x")), CONTENT_TYPE)


async def test_an_exception_from_the_body_propagates_unchanged_through_chunks() -> None:
    _, file = await read_form(failing_after(file_head() + b"partial content"), CONTENT_TYPE)
    assert file is not None
    received: list[bytes] = []

    with pytest.raises(RequestTooLarge, match="body over the limit"):
        await collect_into(received, file.chunks)
    assert b"".join(received) == b"partial content"


async def test_the_whole_body_is_consumed_when_there_is_no_file() -> None:
    consumed = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal consumed
        yield make_body(field_part("title", "x"))
        yield b"epilogue"
        consumed = True

    await read_form(body(), CONTENT_TYPE)

    assert consumed


async def test_file_chunks_stay_bounded_by_the_input_chunks_for_a_64_mib_upload() -> None:
    file_size = 64 * 1024 * 1024
    input_sizes = (65537, 7, 4096, 1_000_003)
    block = pseudo_random_bytes(1_000_003 * 2)

    async def generated_body() -> AsyncIterator[bytes]:
        # Generated on the fly, so the test itself never holds the 64 MiB either.
        yield field_part("title", "Huge")
        yield file_head()
        remaining = file_size
        for size in itertools.cycle(input_sizes):
            if remaining <= 0:
                break
            take = min(size, remaining)
            yield block[:take]
            remaining -= take
        yield b"\r\n" + field_part("description", "after") + CLOSING

    tracemalloc.start()
    try:
        fields, file = await read_form(generated_body(), CONTENT_TYPE)
        assert file is not None
        total = largest = 0
        async for chunk in file.chunks:
            total += len(chunk)
            largest = max(largest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total == file_size
    assert largest <= max(input_sizes) + 256
    assert fields == {"title": "Huge", "description": "after"}
    # A few live chunks at most: nothing near the file's size is ever accumulated.
    assert peak < 8 * 1024 * 1024
