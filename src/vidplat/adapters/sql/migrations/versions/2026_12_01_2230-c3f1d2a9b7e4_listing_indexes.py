"""Listing indexes: keyset pages and index-only totals, the points ledger, trigram search on PostgreSQL;
the expiry's batches walk lapsing subscriptions by (ends_at, id).

Revision ID: c3f1d2a9b7e4
Revises: 5d0c7e1a9b42
Create Date: 2026-12-01 22:30:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "c3f1d2a9b7e4"
down_revision = "5d0c7e1a9b42"
branch_labels = None
depends_on = None

LIVE = sa.text("deleted_at IS NULL")
TRASHED = sa.text("deleted_at IS NOT NULL")
PAGE_INDEXES = (
    ("ix_videos_live_page", "videos", "status", LIVE),
    ("ix_videos_trash_page", "videos", "status", TRASHED),
    ("ix_users_live_page", "users", "role", LIVE),
)
CURRENT = sa.text("ended_at IS NULL")
TRIGRAM_INDEXES = (("ix_videos_title_trgm", "videos", "title"), ("ix_users_email_trgm", "users", "email"))


def upgrade() -> None:
    for name, table, included, where in PAGE_INDEXES:
        op.create_index(
            name,
            table,
            ["organization_id", "created_at", "id"],
            postgresql_include=[included],
            postgresql_where=where,
            sqlite_where=where,
        )
    op.create_index("ix_view_credits_user_ledger", "view_credits", ["user_id", "awarded_at", "id"])
    _lapsing(["ends_at", "id"])
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for name, table, column in TRIGRAM_INDEXES:
            op.create_index(name, table, [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"})


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name, table, _ in TRIGRAM_INDEXES:
            op.drop_index(name, table_name=table)
        # The extension stays: other databases' objects on this server may use it.
    _lapsing(["ends_at"])
    op.drop_index("ix_view_credits_user_ledger", table_name="view_credits")
    for name, table, _, _ in PAGE_INDEXES:
        op.drop_index(name, table_name=table)


def _lapsing(columns: list[str]) -> None:
    op.drop_index("ix_subscriptions_lapsing", table_name="subscriptions")
    op.create_index(
        "ix_subscriptions_lapsing", "subscriptions", columns, postgresql_where=CURRENT, sqlite_where=CURRENT
    )
