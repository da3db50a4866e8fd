"""The seeded plans as the migrations write them, for fakes and SQL fixtures alike."""

from __future__ import annotations

from vidplat.domain.billing.model import Plan, PlanCode

GIB = 1024**3
TRIAL = Plan(
    code=PlanCode.TRIAL,
    name="Trial",
    price=0,
    duration_days=None,
    can_restore_videos=False,
    max_storage_bytes=10 * GIB,
    max_users=50,
)
PAID = Plan(
    code=PlanCode.PAID,
    name="Paid",
    price=10000,
    duration_days=15,
    can_restore_videos=True,
    max_storage_bytes=1024 * GIB,
    max_users=None,
)
