"""Accounts entities and value objects."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from vidplat.domain.errors import AdminRequired, InvalidInput

MIN_PASSWORD = 8
MAX_PASSWORD = 128
MAX_ORG_NAME = 100
MAX_EMAIL = 254

_EMAIL = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


def fold(text: str) -> str:
    """The caseless, compatibility-normalized form (NFKC + casefold, trimmed): one spelling per identity.

    Compares `Straße` with `STRASSE`, `ǅ` with `Ǆ` and full-width letters with their ASCII twins.
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold()).strip()


def normalize_email(raw: str, field_name: str = "email") -> str:
    """Validated email in canonical (folded, trimmed) form."""
    email = fold(raw)
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput(field_name, "is not a valid email address")
    return email


def check_password(raw: str, field_name: str = "password") -> str:
    if not MIN_PASSWORD <= len(raw) <= MAX_PASSWORD:
        raise InvalidInput(field_name, f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return raw


def clean_org_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not 1 <= len(name) <= MAX_ORG_NAME:
        raise InvalidInput("name", f"must be 1 to {MAX_ORG_NAME} characters")
    return name


def org_name_key(name: str) -> str:
    """What organization names are unique by: folded, inner whitespace collapsed."""
    return " ".join(fold(name).split())


def slugify(name: str) -> str:
    """Lowercase ASCII words joined by hyphens; never empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:60].strip("-") or "org"


@dataclass(eq=False, kw_only=True)
class Organization:
    id: UUID
    name: str
    slug: str
    created_at: datetime

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Organization) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)


# What a use case may write back to a user: `points` only moves through add_points.
UserField = Literal["email", "role", "password_hash", "deleted_at"]


@dataclass(eq=False, kw_only=True)
class User:
    id: UUID
    organization_id: UUID
    email: str
    role: Role
    password_hash: str
    created_at: datetime
    points: int = 0
    deleted_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, User) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_active(self) -> bool:
        return self.deleted_at is None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(eq=False, kw_only=True)
class Session:
    """One login: the access tokens and the chain of refresh tokens that stem from it."""

    id: UUID
    user_id: UUID
    organization_id: UUID
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(eq=False, kw_only=True)
class RefreshToken:
    id: UUID
    session_id: UUID
    token_hash: str
    created_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """The authenticated caller, as every use case sees it.

    `session_id` is the login session behind the bearer or playback token; None only for a
    caller no token stands behind.
    """

    user_id: UUID
    organization_id: UUID
    role: Role
    session_id: UUID | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require_admin(self) -> None:
        if not self.is_admin:
            raise AdminRequired


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessClaims:
    user_id: UUID
    organization_id: UUID
    session_id: UUID
    role: Role
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = field(default="bearer")
