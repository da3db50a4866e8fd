"""Sessions: login, refresh-token rotation with reuse detection, logout, authentication."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from vidplat.domain import topics
from vidplat.domain.accounts.model import (
    AccessClaims,
    Principal,
    RefreshToken,
    Session,
    Tokens,
    User,
    fold,
    normalize_email,
)
from vidplat.domain.accounts.policy import AuthPolicy, Quota, address_key
from vidplat.domain.accounts.secrets import hash_token, new_token
from vidplat.domain.errors import InvalidCredentials, InvalidInput, InvalidToken, RefreshTokenReused, TooManyAttempts
from vidplat.domain.ids import new_id
from vidplat.domain.ports import (
    AttemptLimiter,
    Clock,
    PasswordHasher,
    ReadCache,
    TokenCodec,
    UnitOfWork,
    UnitOfWorkFactory,
)
from vidplat.domain.topics import NO_CACHE


@dataclass(frozen=True, slots=True)
class TokenIssuer:
    """Mints the token pair of a session; shared by login and refresh."""

    codec: TokenCodec
    policy: AuthPolicy

    async def issue(self, uow: UnitOfWork, user: User, session: Session, now: datetime) -> Tokens:
        refresh = new_token()
        await uow.refresh_tokens.add(
            RefreshToken(id=new_id(), session_id=session.id, token_hash=hash_token(refresh), created_at=now)
        )
        # Never past the session's end: an access token alone then proves the session is unexpired.
        expires_at = min(now + self.policy.access_ttl, session.expires_at)
        access = self.codec.encode_access(
            AccessClaims(
                user_id=user.id,
                organization_id=user.organization_id,
                session_id=session.id,
                role=user.role,
                issued_at=now,
                expires_at=expires_at,
            )
        )
        return Tokens(access_token=access, refresh_token=refresh, expires_in=int((expires_at - now).total_seconds()))


@dataclass(frozen=True, slots=True, kw_only=True)
class LoginCommand:
    organization: str
    email: str
    password: str
    client_address: str | None = None  # the peer's IP; None when not over the network


@dataclass(slots=True)
class Login:
    """Throttled per client address and per account; no transaction is open across argon2 or Redis.

    The user is read in a read-only unit of work, the attempt counted and the password verified
    outside any transaction, and the session written in a short one that re-reads the user under
    a lock: a password change or deletion committed meanwhile makes the login fail.
    """

    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    limiter: AttemptLimiter
    issuer: TokenIssuer
    clock: Clock
    _decoy_hash: str | None = field(default=None, init=False)

    async def __call__(self, cmd: LoginCommand) -> Tokens:
        policy = self.issuer.policy
        if cmd.client_address is not None:
            await _throttle(self.limiter, policy.login_per_address, address_key(cmd.client_address))
        async with self.uow(read_only=True) as uow:
            org_id, user = await self._find(uow, cmd)
        # Keyed on the account however it was spelled; an unknown one is counted just the same.
        account = f"{org_id or _org_ref(cmd.organization)}:{fold(cmd.email)}"
        await _throttle(self.limiter, policy.login_failures, account)
        # Unknown org or email still pays for one verification so timing reveals nothing.
        valid = await self.hasher.verify(user.password_hash if user else await self._decoy(), cmd.password)
        if user is None or not valid:
            raise InvalidCredentials
        now = self.clock.now()
        async with self.uow() as uow:
            current = await uow.users.get(user.organization_id, user.id, for_update=True)
            if current is None or current.password_hash != user.password_hash:
                raise InvalidCredentials
            session = Session(
                id=new_id(),
                user_id=user.id,
                organization_id=user.organization_id,
                created_at=now,
                expires_at=now + policy.refresh_ttl,
            )
            await uow.sessions.add(session)
            tokens = await self.issuer.issue(uow, current, session, now)
            await uow.commit()
        await self.limiter.reset(policy.login_failures, account)
        return tokens

    async def _find(self, uow: UnitOfWork, cmd: LoginCommand) -> tuple[UUID | None, User | None]:
        org = None
        with contextlib.suppress(ValueError):
            org = await uow.organizations.get(UUID(cmd.organization))
        org = org or await uow.organizations.get_by_slug(cmd.organization.strip().lower())
        if org is None:
            return None, None
        try:
            email = normalize_email(cmd.email)
        except InvalidInput:
            return org.id, None
        return org.id, await uow.users.get_by_email(org.id, email)

    async def _decoy(self) -> str:
        if self._decoy_hash is None:
            self._decoy_hash = await self.hasher.hash(new_token())
        return self._decoy_hash


async def _throttle(limiter: AttemptLimiter, quota: Quota, key: str) -> None:
    retry_after = await limiter.hit(quota, key)
    if retry_after > 0:
        raise TooManyAttempts(retry_after)


def _org_ref(raw: str) -> str:
    """One spelling per unknown organization for the throttling key.

    UUID() accepts braces, a urn: prefix and hyphens anywhere, so keying on the raw text
    would give an attacker endless fresh keys for the same organization id.
    """
    text = fold(raw)
    with contextlib.suppress(ValueError):
        return str(UUID(text))
    return text


@dataclass(frozen=True, slots=True)
class Refresh:
    uow: UnitOfWorkFactory
    issuer: TokenIssuer
    clock: Clock

    async def __call__(self, refresh_token: str) -> Tokens:
        now = self.clock.now()
        async with self.uow() as uow:
            token = await uow.refresh_tokens.get_by_hash(hash_token(refresh_token))
            if token is None:
                raise InvalidToken
            # A spent token coming back means it leaked: kill the whole session.
            if token.used_at is not None or not await uow.refresh_tokens.mark_used(token.id, now):
                await uow.sessions.revoke(token.session_id, now)
                await uow.commit()
                raise RefreshTokenReused
            user = await uow.sessions.get_principal_user(token.session_id, now)
            session = await uow.sessions.get(token.session_id)
            if user is None or session is None:
                raise InvalidToken
            tokens = await self.issuer.issue(uow, user, session, now)
            await uow.commit()
        return tokens


@dataclass(frozen=True, slots=True)
class Logout:
    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal) -> None:
        if principal.session_id is None:
            raise InvalidToken
        async with self.uow() as uow:
            await uow.sessions.revoke(principal.session_id, self.clock.now())
            await uow.commit()


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """The caller behind a live session of a user: bearer tokens and playback tokens both end here.

    The check is cached until the user or the session changes: a logout, a password change, a
    role change or a deletion announces its topic on commit.
    """

    uow: UnitOfWorkFactory
    clock: Clock
    cache: ReadCache = NO_CACHE

    async def __call__(self, user_id: UUID, session_id: UUID) -> Principal:
        user = await self.cache.get_or_load(
            ("principal", session_id),
            (topics.user(user_id), topics.session(session_id)),
            lambda: self._load(session_id),
        )
        if user is None or user.id != user_id:
            raise InvalidToken
        # The role comes from the database so a demotion takes effect at once.
        return Principal(user_id=user.id, organization_id=user.organization_id, session_id=session_id, role=user.role)

    async def _load(self, session_id: UUID) -> User | None:
        async with self.uow(read_only=True) as uow:
            return await uow.sessions.get_principal_user(session_id, self.clock.now())


@dataclass(frozen=True, slots=True)
class Authenticate:
    """Turns an access token into a Principal, checking the session and user are still alive.

    The token's expiry, never past the session's, is checked on every call.
    """

    codec: TokenCodec
    clock: Clock
    sessions: SessionCheck

    async def __call__(self, access_token: str) -> Principal:
        claims = self.codec.decode_access(access_token, self.clock.now())
        return await self.sessions(claims.user_id, claims.session_id)
