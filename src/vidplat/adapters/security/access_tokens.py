"""TokenCodec on PyJWT: short-lived HS256 access tokens."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import jwt

from vidplat.domain.accounts.model import AccessClaims, Role
from vidplat.domain.errors import InvalidToken

_ALGORITHM = "HS256"
_TYPE = "access"
_CLAIMS = ["sub", "org", "sid", "role", "iat", "exp", "typ", "iss"]
# Tolerate this much clock skew between the instance that issued a token and the one reading it.
_LEEWAY = timedelta(seconds=30)


# Tokens whose signature and claims were verified, kept per process: a client sends the same
# token with every request until it refreshes, and verifying costs more than the rest of a
# cached authentication. Only the time checks, which depend on `now`, are repeated.
_VERIFIED_MAX = 10_000


class JwtTokenCodec:
    def __init__(self, secret: str, issuer: str = "vidplat") -> None:
        self._secret = secret
        self._issuer = issuer
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()

    def encode_access(self, claims: AccessClaims) -> str:
        payload = {
            "sub": str(claims.user_id),
            "org": str(claims.organization_id),
            "sid": str(claims.session_id),
            "role": claims.role.value,
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "typ": _TYPE,
            "iss": self._issuer,
        }
        return jwt.encode(payload, self._secret, algorithm=_ALGORITHM)

    def decode_access(self, token: str, now: datetime) -> AccessClaims:
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            self._verified[token] = claims
            if len(self._verified) > _VERIFIED_MAX:
                self._verified.popitem(last=False)
        if now >= claims.expires_at or claims.issued_at > now + _LEEWAY:
            raise InvalidToken
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            # The algorithm list is pinned (never read from the token header), so "none" and
            # asymmetric-key confusion are refused. PyJWT's own time checks use the wall
            # clock; they are off and replaced by checks against the injected `now`.
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={"require": _CLAIMS, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
            return _claims(payload)
        except (jwt.PyJWTError, KeyError, TypeError, ValueError, OverflowError, OSError) as exc:
            raise InvalidToken from exc


def _claims(payload: dict[str, Any]) -> AccessClaims:
    """Domain claims from a verified payload; KeyError, TypeError or ValueError when malformed."""
    if payload["typ"] != _TYPE:
        raise ValueError("not an access token")
    return AccessClaims(
        user_id=_uuid(payload["sub"]),
        organization_id=_uuid(payload["org"]),
        session_id=_uuid(payload["sid"]),
        role=Role(payload["role"]),
        issued_at=_instant(payload["iat"]),
        expires_at=_instant(payload["exp"]),
    )


def _uuid(value: object) -> UUID:
    if not isinstance(value, str):
        raise TypeError("identifier must be a string")
    return UUID(value)


def _instant(value: object) -> datetime:
    # bool is an int subclass; a JSON `true` is not a timestamp.
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("timestamp must be an integer")
    return datetime.fromtimestamp(value, UTC)
