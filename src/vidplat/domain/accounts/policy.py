"""Tunable rules of authentication, set from Settings by the composition root."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Quota:
    """At most `limit` attempts per key in a window that the first attempt opens and nothing extends."""

    name: str
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthPolicy:
    access_ttl: timedelta = timedelta(minutes=15)
    refresh_ttl: timedelta = timedelta(days=30)
    # Per account (organization id + normalized email): failed logins; a success clears it.
    login_failures: Quota = field(default_factory=lambda: Quota("login-account", 10, 900))
    # Per client address: every login and every signup costs an argon2 computation.
    login_per_address: Quota = field(default_factory=lambda: Quota("login-address", 100, 60))
    signup_per_address: Quota = field(default_factory=lambda: Quota("signup-address", 10, 3600))


def address_key(address: str) -> str:
    """One key per client: an IPv6 client controls its whole /64, so that is what is counted."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # not an IP (a test client, a unix socket): counted as given
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
