"""The view-points ledger entry."""

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
