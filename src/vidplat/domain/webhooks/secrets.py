"""Signing secrets: derived from the server's webhook key and a random salt per endpoint, never stored.

A database dump alone reveals no secret, as encryption at rest would give, with nothing beyond the
standard library: HMAC-SHA256 keyed with the server's key is a pseudorandom function, so the derived
secret is as unguessable as the key. The cost is the same as losing an encryption key: changing
VIDPLAT_WEBHOOKS_KEY changes every endpoint's secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from uuid import UUID

SALT_BYTES = 16
_CONTEXT = b"vidplat webhook signing secret v1\x00"


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def signing_secret(key: bytes, endpoint_id: UUID, salt: bytes) -> str:
    """The endpoint's `whsec_` secret (32 bytes, base64) as Standard Webhooks spells it."""
    derived = hmac.new(key, _CONTEXT + endpoint_id.bytes + salt, hashlib.sha256).digest()
    return "whsec_" + base64.b64encode(derived).decode()
