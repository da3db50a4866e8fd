"""Signing up: an organization, its first admin and a TRIAL subscription, atomically."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from vidplat.domain.accounts.model import (
    Organization,
    Role,
    User,
    check_password,
    clean_org_name,
    normalize_email,
    slugify,
)
from vidplat.domain.accounts.policy import Quota, address_key
from vidplat.domain.billing.model import Subscription, Usage
from vidplat.domain.billing.queries import OrganizationOverview, overview, trial_plan
from vidplat.domain.errors import OrganizationNameTaken, SlugTaken, TooManyAttempts
from vidplat.domain.ids import new_id
from vidplat.domain.ports import AttemptLimiter, Clock, OrganizationRepository, PasswordHasher, UnitOfWorkFactory

_SLUG_ATTEMPTS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class SignUpCommand:
    name: str
    admin_email: str
    admin_password: str
    client_address: str | None = None  # the peer's IP; None when not over the network


@dataclass(frozen=True, slots=True)
class SignUp:
    """Throttled per client address, before argon2; the password is hashed outside the transaction."""

    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock
    limiter: AttemptLimiter
    quota: Quota

    async def __call__(self, cmd: SignUpCommand) -> OrganizationOverview:
        name = clean_org_name(cmd.name)
        email = normalize_email(cmd.admin_email, "admin_email")
        if cmd.client_address is not None:
            retry_after = await self.limiter.hit(self.quota, address_key(cmd.client_address))
            if retry_after > 0:
                raise TooManyAttempts(retry_after)
        password_hash = await self.hasher.hash(check_password(cmd.admin_password, "admin_password"))
        now = self.clock.now()
        for _ in range(_SLUG_ATTEMPTS):
            try:
                return await self._create(name, email, password_hash, now)
            except SlugTaken:
                # A concurrent signup of another name with the same slug won it; pick another.
                continue
        raise OrganizationNameTaken

    async def _create(self, name: str, email: str, password_hash: str, now: datetime) -> OrganizationOverview:
        async with self.uow() as uow:
            if await uow.organizations.name_exists(name):
                raise OrganizationNameTaken
            trial = await trial_plan(uow)
            org = Organization(id=new_id(), name=name, slug=await _free_slug(uow.organizations, name), created_at=now)
            await uow.organizations.add(org)
            await uow.users.add(
                User(
                    id=new_id(),
                    organization_id=org.id,
                    email=email,
                    role=Role.ADMIN,
                    password_hash=password_hash,
                    created_at=now,
                )
            )
            subscription = Subscription(
                id=new_id(), organization_id=org.id, plan=trial, started_at=now, ends_at=trial.ends_at(now)
            )
            await uow.subscriptions.add(subscription)
            await uow.commit()
        return overview(org, subscription, Usage(storage_bytes=0, users=1), now)


async def _free_slug(organizations: OrganizationRepository, name: str) -> str:
    """The name's slug, with a short random suffix when another organization has it."""
    slug = slugify(name)
    while await organizations.slug_exists(slug):
        slug = f"{slugify(name)[:53]}-{secrets.token_hex(3)}"
    return slug
