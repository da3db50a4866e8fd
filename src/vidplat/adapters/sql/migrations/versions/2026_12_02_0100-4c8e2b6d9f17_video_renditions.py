"""Videos gain processing progress and the HLS renditions of their served file.

Revision ID: 4c8e2b6d9f17
Revises: 7b3e9d2a4c15
Create Date: 2026-12-02 01:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "4c8e2b6d9f17"
down_revision = "7b3e9d2a4c15"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not batch mode: recreating the table on SQLite would drop its count triggers.
    op.add_column("videos", sa.Column("progress", sa.SmallInteger(), nullable=True))
    # Videos published before renditions existed have none: empty, not null.
    op.add_column("videos", sa.Column("renditions", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.execute("UPDATE videos SET progress = 100 WHERE status = 'ready'")
    op.execute("UPDATE videos SET progress = 0 WHERE status = 'processing'")


def downgrade() -> None:
    op.drop_column("videos", "renditions")
    op.drop_column("videos", "progress")
