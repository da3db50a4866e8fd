"""Opaque bearer secrets (refresh tokens): generation and the digest stored in their place."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest kept in the database.

    A plain hash is enough (no salt, no slow KDF): the token is 256 random bits, so it
    cannot be guessed, and a fast deterministic digest lets us look it up by equality.
    """
    return hashlib.sha256(token.encode()).hexdigest()
