"""Video totals kept per organization by triggers: a catalog's total is one row, not a count(*).

Every insert, delete, and change of status or trash of a video moves its organization's counts in
the same transaction, whichever code path writes it; the upgrade backfills them from the videos.

Revision ID: e7b4a1c9d2f3
Revises: c3f1d2a9b7e4
Create Date: 2026-12-01 22:40:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

from vidplat.adapters.sql.counters import Counts

revision = "e7b4a1c9d2f3"
down_revision = "c3f1d2a9b7e4"
branch_labels = None
depends_on = None

STATUSES = ("processing", "ready", "failed")  # live videos by status; `trashed` counts the rest
COUNTS = Counts(
    table="videos",
    counts="video_counts",
    columns={
        **{status: f"{{row}}.deleted_at IS NULL AND {{row}}.status = '{status}'" for status in STATUSES},
        "trashed": "{row}.deleted_at IS NOT NULL",
    },
)


def upgrade() -> None:
    zero = sa.text("0")
    op.create_table(
        "video_counts",
        sa.Column("organization_id", GUID(length=16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default=zero, nullable=False) for name in COUNTS.columns),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_video_counts_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_video_counts")),
    )
    COUNTS.create()


def downgrade() -> None:
    COUNTS.drop()
    op.drop_table("video_counts")
