"""Whom a real `vidplat serve` counts as the client: the peer, or the proxy's X-Forwarded-For when trusted."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.hardening.servers import vidplat_serve
from tests.hardening.wiring import CHEAP_ARGON2

ONE_SIGNUP_PER_ADDRESS = {**CHEAP_ARGON2, "VIDPLAT_SIGNUP_ADDRESS_MAX_ATTEMPTS": "1"}


def _sign_up(port: int, n: int, forwarded_for: str) -> int:
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/organizations",
        json={"name": f"Client {n}", "admin_email": f"a{n}@client.test", "admin_password": "a long password"},
        headers={"X-Forwarded-For": forwarded_for},
        timeout=30,
    )
    return response.status_code


def test_behind_a_trusted_proxy_each_forwarded_client_is_counted_on_its_own(tmp_path: Path) -> None:
    env = ONE_SIGNUP_PER_ADDRESS | {"VIDPLAT_FORWARDED_ALLOW_IPS": "127.0.0.1"}
    with vidplat_serve(tmp_path, env) as port:
        assert [_sign_up(port, n, address) for n, address in enumerate(["203.0.113.1", "203.0.113.2"])] == [201, 201]
        assert _sign_up(port, 3, "203.0.113.1") == 429


def test_without_a_trusted_proxy_forwarded_for_is_not_believed(tmp_path: Path) -> None:
    with vidplat_serve(tmp_path, ONE_SIGNUP_PER_ADDRESS) as port:
        assert _sign_up(port, 1, "203.0.113.1") == 201
        assert _sign_up(port, 2, "203.0.113.2") == 429  # still 127.0.0.1, whatever the header says
