"""Plan quotas: what an organization uses, and the checks that keep it within its plan.

Every check takes the organization's lock first and counts under it, in the transaction
that writes: concurrent writers of one organization queue on the lock, so each counts
what the ones before it committed and none can overshoot.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from vidplat.domain.billing.model import Usage
from vidplat.domain.billing.queries import effective_plan
from vidplat.domain.errors import QuotaExceeded
from vidplat.domain.ports import UnitOfWork

STORAGE_FULL = "The upload would exceed the storage of the organization's plan."
USERS_FULL = "The organization's plan allows no more users."


async def storage_used(uow: UnitOfWork, organization_id: UUID) -> int:
    """Every byte counted against the plan: videos, and what incomplete resumable uploads reserved."""
    return await uow.videos.storage_bytes(organization_id) + await uow.resumable_uploads.reserved_bytes(organization_id)


async def usage(uow: UnitOfWork, organization_id: UUID) -> Usage:
    return Usage(
        storage_bytes=await storage_used(uow, organization_id), users=await uow.users.count_active(organization_id)
    )


async def has_room(uow: UnitOfWork, organization_id: UUID, now: datetime, *, releasing: int = 0) -> None:
    """Refuse early, before any byte is stored, when the organization has no storage left at all.

    Advisory (no lock): `reserve` in the writing transaction is what enforces the quota.
    """
    limit = (await effective_plan(uow, organization_id, now)).max_storage_bytes
    if limit is not None and await storage_used(uow, organization_id) - releasing >= limit:
        raise QuotaExceeded(STORAGE_FULL)


async def reserve(uow: UnitOfWork, organization_id: UUID, size: int, now: datetime, *, releasing: int = 0) -> None:
    """Lock the organization and refuse `size` more bytes past its plan's storage (in this transaction).

    `releasing` is what the same write frees (a pending upload it supersedes). Call it before
    locking any of the organization's rows: the organization first, always.
    """
    await uow.organizations.lock(organization_id)
    limit = (await effective_plan(uow, organization_id, now)).max_storage_bytes
    if limit is not None and await storage_used(uow, organization_id) - releasing + size > limit:
        raise QuotaExceeded(STORAGE_FULL)


async def admit_user(uow: UnitOfWork, organization_id: UUID, now: datetime) -> None:
    """Lock the organization and refuse one more active user past its plan's limit (in this transaction)."""
    await uow.organizations.lock(organization_id)
    limit = (await effective_plan(uow, organization_id, now)).max_users
    if limit is not None and await uow.users.count_active(organization_id) >= limit:
        raise QuotaExceeded(USERS_FULL)
