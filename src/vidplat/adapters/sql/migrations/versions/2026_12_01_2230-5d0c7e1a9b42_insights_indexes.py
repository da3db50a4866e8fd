"""Insights indexes: a video's viewers newest first, an organization's leaderboard of active users.

`ix_view_credits_video_awarded` also serves the view_credits.video_id foreign key, which had none.

Revision ID: 5d0c7e1a9b42
Revises: 5d2f8c1e7a94
Create Date: 2026-12-01 22:30:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5d0c7e1a9b42"
down_revision = "5d2f8c1e7a94"
branch_labels = None
depends_on = None

LIVE_USER = sa.text("deleted_at IS NULL")


def upgrade() -> None:
    op.create_index(
        "ix_view_credits_video_awarded", "view_credits", ["video_id", sa.text("awarded_at DESC"), sa.text("id DESC")]
    )
    op.create_index(
        "ix_users_leaderboard",
        "users",
        ["organization_id", sa.text("points DESC"), "id"],
        postgresql_where=LIVE_USER,
        sqlite_where=LIVE_USER,
    )


def downgrade() -> None:
    op.drop_index("ix_users_leaderboard", table_name="users")
    op.drop_index("ix_view_credits_video_awarded", table_name="view_credits")
