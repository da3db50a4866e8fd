"""The SSRF guard of webhook URLs: what is refused without VIDPLAT_WEBHOOKS_ALLOW_PRIVATE, and what is not."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from vidplat.adapters.outbound.webhooks import GuardedWebhookSender
from vidplat.domain.errors import WebhookUrlRefused

PUBLIC = "93.184.216.34"


async def _resolve(host: str, port: int) -> Sequence[str]:
    """A DNS of fixed answers; names it does not know do not resolve."""
    answers = {
        "hooks.example.com": [PUBLIC, "2606:2800:220:1::1"],
        "internal.example.com": ["10.1.2.3"],
        "metadata.example.com": ["169.254.169.254"],
        "sneaky.example.com": [PUBLIC, "::ffff:127.0.0.1"],  # one bad answer among good ones is enough
        "nat64.example.com": ["64:ff9b::a00:1"],  # 10.0.0.1 behind NAT64
    }
    if host not in answers:
        raise OSError(f"{host} does not resolve")
    return answers[host]


REFUSED = [
    "http://127.0.0.1/hooks",
    "http://[::1]/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://0x7f000001/",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:7f00:1]/",
    "http://[fe80::1%25eth0]/",
    "http://0.0.0.0/",
    "http://224.0.0.1/",
    "http://100.64.0.1/",
    "http://192.168.1.10/",
    "http://240.0.0.1/",
    "http://internal.example.com/",
    "http://metadata.example.com/",
    "http://sneaky.example.com/",
    "http://nat64.example.com/",
    "http://nowhere.example.com/",
    "ftp://hooks.example.com/",
    "file:///etc/passwd",
    "https:///no-host",
    "http://hooks.example.com:99999/",
]


@pytest.mark.parametrize("url", REFUSED)
async def test_a_url_aimed_inside_the_network_or_not_http_is_refused(url: str) -> None:
    with pytest.raises(WebhookUrlRefused) as refused:
        await GuardedWebhookSender(resolve=_resolve).vet(url)
    assert refused.value.code == "webhook_url_refused"


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/in", "http://93.184.216.34:8080/x", "https://[2606:2800:220:1::1]/"]
)
async def test_a_public_url_is_accepted(url: str) -> None:
    await GuardedWebhookSender(resolve=_resolve).vet(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/hooks", "http://[::1]/", "http://internal.example.com/"])
async def test_allow_private_lets_loopback_and_private_addresses_through(url: str) -> None:
    await GuardedWebhookSender(allow_private=True, resolve=_resolve).vet(url)


async def test_allow_private_still_refuses_what_is_not_http() -> None:
    with pytest.raises(WebhookUrlRefused):
        await GuardedWebhookSender(allow_private=True, resolve=_resolve).vet("file:///etc/passwd")


async def test_a_refused_url_is_never_sent_to() -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> Sequence[str]:
        calls.append(host)
        return ["10.0.0.1"]

    sender = GuardedWebhookSender(resolve=resolve)
    status = await sender.send("http://internal.example.com/", "whsec_" + "A" * 44, "msg", datetime.now(UTC), b"{}")
    assert status is None
    assert calls == ["internal.example.com"]
