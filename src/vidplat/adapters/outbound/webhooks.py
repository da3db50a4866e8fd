"""The webhook sender: Standard Webhooks signatures, and an SSRF guard in front of every request.

A URL is vetted at creation and again at each delivery: every address its host resolves to must
be public (not private, loopback, link-local, multicast, unspecified or reserved, IPv4-mapped
IPv6 unwrapped), and the request then connects to the address that was checked, with the name
in the Host header and the TLS SNI, so a DNS answer that changes in between (rebinding) cannot
aim it inward. No redirects, no proxies from the environment, no keep-alive (a pooled TLS
connection is keyed by address, not name), 10 s for the whole attempt, the response body unread
beyond a few KiB.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

from vidplat.domain.errors import WebhookUrlRefused

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to, as strings.
Resolve = Callable[[str, int], Awaitable[Sequence[str]]]

TIMEOUT_SECONDS = 10.0
RESOLVE_TIMEOUT_SECONDS = 5.0
MAX_RESPONSE_BYTES = 4096
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What inet_aton takes for an IPv4 address: 0x7f000001, 2130706433, 0177.0.0.1, 127.1.
_NUMERIC_HOST = re.compile(r"[0-9][0-9a-fx.]*", re.IGNORECASE)
# IPv6 prefixes that carry an IPv4 address the packet may end up at (NAT64).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


async def system_resolve(host: str, port: int) -> Sequence[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling a resolver would accept; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def refusal(address: IPAddress) -> str | None:
    """Why the address must not be called, or None when it is a public unicast address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return refusal(embedded)
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private or not address.is_global),
    )
    return next((f"resolves to a non-public ({kind}) address" for kind, hit in checks if hit), None)


class GuardedWebhookSender:
    """WebhookSender over httpx; `allow_private` (VIDPLAT_WEBHOOKS_ALLOW_PRIVATE) lifts the address checks only."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        resolve: Resolve = system_resolve,
        timeout_seconds: float = TIMEOUT_SECONDS,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._resolve = resolve
        self._timeout = timeout_seconds
        self._verify = verify or httpx.create_ssl_context()

    async def vet(self, url: str) -> None:
        await self._target(url)

    async def send(self, url: str, secret: str, message_id: str, timestamp: datetime, body: bytes) -> int | None:
        headers = {
            "content-type": "application/json",
            "user-agent": "vidplat-webhooks/1",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, timestamp, body.decode()),
        }
        try:
            async with asyncio.timeout(self._timeout):
                pinned, host_header, sni = await self._target(url)
                return await self._post(pinned, {**headers, "host": host_header}, sni, body)
        except WebhookUrlRefused as refused:
            log.warning("webhook to %s refused: %s", url, refused.detail)
        except (httpx.HTTPError, OSError, TimeoutError, ssl.SSLError) as exc:
            log.info("webhook to %s got no response: %r", url, exc)
        return None

    async def _post(self, url: httpx.URL, headers: dict[str, str], sni: str | None, body: bytes) -> int:
        async with (
            httpx.AsyncClient(
                verify=self._verify,
                timeout=self._timeout,
                follow_redirects=False,
                trust_env=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            ) as client,
            client.stream(
                "POST", url, headers=headers, content=body, extensions={"sni_hostname": sni} if sni else None
            ) as response,
        ):
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_RESPONSE_BYTES:
                    break
            return response.status_code

    async def _target(self, url: str) -> tuple[httpx.URL, str, str | None]:
        """The URL pinned to a vetted address, the Host header, and the TLS server name."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise WebhookUrlRefused("must be an http or https URL")
        try:
            host, port = parts.hostname, parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise WebhookUrlRefused("has an invalid port") from exc
        if not host:
            raise WebhookUrlRefused("must name a host")
        literal = literal_address(host)
        addresses = [literal] if literal is not None else await self._addresses(host, port)
        if not self._allow_private:
            for address in addresses:
                if (reason := refusal(address)) is not None:
                    raise WebhookUrlRefused(reason)
        chosen = addresses[0]
        host_header = parts.netloc.rpartition("@")[2]
        pinned = httpx.URL(url).copy_with(host=str(chosen), port=port)
        return pinned, host_header, None if literal is not None else host

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                found = await self._resolve(host, port)
        except (OSError, TimeoutError) as exc:
            raise WebhookUrlRefused("does not resolve") from exc
        addresses = []
        for text in found:
            try:
                addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
            except ValueError as exc:
                raise WebhookUrlRefused("resolves to something that is not an address") from exc
        if not addresses:
            raise WebhookUrlRefused("does not resolve")
        return addresses
