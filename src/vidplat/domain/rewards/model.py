"""The view-points ledger entry, and what insights read from the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ViewCredit:
    id: UUID
    organization_id: UUID
    user_id: UUID
    video_id: UUID
    points: int
    awarded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Viewer:
    """A user credited for a video, and when."""

    user_id: UUID
    email: str
    points: int
    awarded_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Standing:
    """A user's place on the organization's leaderboard: their running total of points."""

    user_id: UUID
    email: str
    points: int
