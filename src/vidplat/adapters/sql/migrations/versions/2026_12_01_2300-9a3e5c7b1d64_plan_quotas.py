"""Plan quotas and trash purge: plans' max_storage_bytes and max_users (NULL: unlimited), the size
of a video's pending upload, and purged_at for trashed videos whose files are gone.

The seeded plans get their limits: TRIAL 10 GiB and 50 users, PAID 1 TiB and unlimited users.
A first upload still pending counts its size, which the row already has in size_bytes.

Revision ID: 9a3e5c7b1d64
Revises: b7e4d2a91c3f
Create Date: 2026-12-01 23:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision = "9a3e5c7b1d64"
down_revision = "b7e4d2a91c3f"
branch_labels = None
depends_on = None

GIB = 1024**3
LIMITS = {"TRIAL": (10 * GIB, 50), "PAID": (1024 * GIB, None)}
PURGEABLE = sa.text("deleted_at IS NOT NULL AND purged_at IS NULL")

plans = sa.table("plans", sa.column("code", sa.String()), sa.column("max_storage_bytes"), sa.column("max_users"))
videos = sa.table(
    "videos",
    sa.column("pending_key", sa.String()),
    sa.column("storage_key", sa.String()),
    sa.column("size_bytes", sa.BigInteger()),
    sa.column("pending_bytes", sa.BigInteger()),
)


# Plain ALTER TABLE ADD/DROP COLUMN, never a batch: on SQLite a batch copies the table, which
# would drop the video_counts triggers on videos.


def upgrade() -> None:
    op.add_column("plans", sa.Column("max_storage_bytes", sa.BigInteger(), nullable=True))
    op.add_column("plans", sa.Column("max_users", sa.Integer(), nullable=True))
    op.add_column("videos", sa.Column("pending_bytes", sa.BigInteger(), nullable=True))
    op.add_column("videos", sa.Column("purged_at", DateTimeUTC(timezone=True), nullable=True))
    for code, (storage, users) in LIMITS.items():
        op.execute(plans.update().where(plans.c.code == code).values(max_storage_bytes=storage, max_users=users))
    op.execute(
        videos.update()
        .where(videos.c.pending_key.is_not(None), videos.c.storage_key.is_(None))
        .values(pending_bytes=videos.c.size_bytes)
    )
    op.create_index("ix_videos_purgeable", "videos", ["deleted_at"], postgresql_where=PURGEABLE, sqlite_where=PURGEABLE)


def downgrade() -> None:
    op.drop_index("ix_videos_purgeable", table_name="videos")
    op.drop_column("videos", "purged_at")
    op.drop_column("videos", "pending_bytes")
    op.drop_column("plans", "max_users")
    op.drop_column("plans", "max_storage_bytes")
