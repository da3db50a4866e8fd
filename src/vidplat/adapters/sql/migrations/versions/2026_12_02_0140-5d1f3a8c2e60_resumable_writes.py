"""Resumable uploads keep the store's write state (a running multipart upload) instead of segment keys.

Uploads in progress were stored as segments this version no longer assembles: they are ended
(expired at creation), so the expiry job removes them with their segments.

Revision ID: 5d1f3a8c2e60
Revises: d0432578336d
Create Date: 2026-12-02 01:20:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "5d1f3a8c2e60"
down_revision = "d0432578336d"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE resumable_uploads SET expires_at = created_at WHERE video_id IS NULL")
    # Plain ALTER TABLE, not batch mode: recreating the table on SQLite reflects its foreign keys'
    # tables, and the warning that reflection prints would be the one non-JSON line of a JSON log.
    op.add_column(
        "resumable_uploads", sa.Column("write_state", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
    )
    op.add_column("resumable_uploads", sa.Column("claims", sa.Integer(), nullable=False, server_default=sa.text("0")))
    op.drop_column("resumable_uploads", "parts")


def downgrade() -> None:
    op.execute("UPDATE resumable_uploads SET expires_at = created_at WHERE video_id IS NULL")
    op.add_column("resumable_uploads", sa.Column("parts", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.drop_column("resumable_uploads", "claims")
    op.drop_column("resumable_uploads", "write_state")
