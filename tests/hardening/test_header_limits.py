"""A directly exposed `vidplat serve` bounds request heads: 431 past 32 KiB or 100 header fields.

Tested against the real server process (uvicorn and its protocol), on a loopback port, with raw
sockets: an HTTP client library would refuse to send some of these requests itself.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
from collections.abc import Iterator

import pytest

from tests.hardening.servers import vidplat_serve

READ_TIMEOUT_SECONDS = 10.0


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """`vidplat serve` in the embedded wiring (its own data dir), stopped at the end."""
    with vidplat_serve(tmp_path_factory.mktemp("serve")) as port:
        assert _exchange(port, _request([]))[0] == 200
        yield port


def _request(headers: list[str], path: str = "/health") -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "Connection: close", "", ""]
    return "\r\n".join(lines).encode()


def _exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send the request (as far as the server reads it) and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_SECONDS) as conn:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(request)
        received = bytearray()
        with contextlib.suppress(ConnectionResetError):
            while chunk := conn.recv(65536):
                received += chunk
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), headers, body


def _assert_431(answer: tuple[int, dict[str, str], bytes]) -> None:
    status, headers, body = answer
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    assert headers["connection"] == "close"
    problem = json.loads(body)
    assert (problem["status"], problem["code"]) == (431, "headers_too_large")


def test_a_four_mebibyte_bearer_token_gets_431(port: int) -> None:
    _assert_431(_exchange(port, _request([f"Authorization: Bearer {'a' * 4 * 1024 * 1024}"])))


def test_two_thousand_headers_get_431(port: int) -> None:
    _assert_431(_exchange(port, _request([f"X-Filler-{n}: {n}" for n in range(2000)])))


def test_a_header_just_past_the_bound_gets_431(port: int) -> None:
    _assert_431(_exchange(port, _request([f"X-Big: {'b' * 33 * 1024}"])))


def test_a_huge_request_target_gets_431(port: int) -> None:
    _assert_431(_exchange(port, _request([], path=f"/health?pad={'p' * 64 * 1024}")))


def test_ordinary_heads_within_the_bounds_are_served(port: int) -> None:
    token = "a" * 2048  # a JWT is well under this
    status, _, body = _exchange(port, _request([f"Authorization: Bearer {token}", *(f"X-N{n}: v" for n in range(90))]))
    assert status == 200
    assert json.loads(body) == {"status": "ok"}


def test_the_server_keeps_serving_after_refusing(port: int) -> None:
    _assert_431(_exchange(port, _request([f"X-Filler-{n}: {n}" for n in range(500)])))
    assert _exchange(port, _request([]))[0] == 200


def test_a_large_body_is_not_mistaken_for_a_large_head(port: int) -> None:
    body = b"x" * (1024 * 1024)
    head = _request(["Content-Type: application/json", f"Content-Length: {len(body)}"], path="/api/v1/auth/login")
    status, _, answer = _exchange(port, head.replace(b"GET ", b"POST ", 1) + body)
    # The app got the request and refused the body for what it is: not JSON.
    assert status == 400
    assert json.loads(answer)["status"] == 400


def test_pipelined_requests_after_a_large_body_are_served(port: int) -> None:
    body = b'{"organization": "' + b"o" * 60_000 + b'"}'
    first = (
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    with socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT_SECONDS) as conn:
        conn.sendall(first + _request([]))  # the second asks to close once answered
        received = bytearray()
        while chunk := conn.recv(65536):
            received += chunk
    statuses = [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", bytes(received))]
    assert statuses[-1] == 200
    assert 431 not in statuses
