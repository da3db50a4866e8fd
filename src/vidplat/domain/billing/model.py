"""Billing entities: plans are reference data, subscriptions their time-bound use."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID


class PlanCode(StrEnum):
    TRIAL = "TRIAL"
    PAID = "PAID"


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    code: PlanCode
    name: str
    price: int
    duration_days: int | None
    can_restore_videos: bool
    max_storage_bytes: int | None = None  # None: unlimited
    max_users: int | None = None

    def ends_at(self, start: datetime) -> datetime | None:
        return None if self.duration_days is None else start + timedelta(days=self.duration_days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """What an organization holds against its plan's limits."""

    storage_bytes: int
    users: int


@dataclass(eq=False, kw_only=True)
class Subscription:
    id: UUID
    organization_id: UUID
    plan: Plan
    started_at: datetime
    ends_at: datetime | None
    ended_at: datetime | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Subscription) and other.id == self.id

    def __hash__(self) -> int:
        return hash(self.id)

    @property
    def is_current(self) -> bool:
        """Not yet ended by a change of plan or by the expiry job."""
        return self.ended_at is None

    def has_lapsed(self, now: datetime) -> bool:
        return self.ends_at is not None and self.ends_at <= now

    def is_active(self, now: datetime) -> bool:
        """Grants its plan right now: current and not past its end, whatever the job did."""
        return self.is_current and not self.has_lapsed(now)
