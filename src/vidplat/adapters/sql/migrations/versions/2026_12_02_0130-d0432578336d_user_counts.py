"""Active users kept per organization and role by triggers, as video_counts keeps videos: the users
list's total (and the quota's and last-admin rule's counts) is one row, not a count of every user.
The title and email trigram indexes lead with the organization (btree_gin), so a search rechecks
only its own organization's matches.

Revision ID: d0432578336d
Revises: 4c8e2b6d9f17
Create Date: 2026-12-02 01:30:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

from vidplat.adapters.sql.counters import Counts

revision = "d0432578336d"
down_revision = "4c8e2b6d9f17"
branch_labels = None
depends_on = None

ROLES = ("admin", "member")
COUNTS = Counts(
    table="users",
    counts="user_counts",
    columns={role: f"{{row}}.deleted_at IS NULL AND {{row}}.role = '{role}'" for role in ROLES},
)
TRIGRAM_INDEXES = (("ix_videos_title_trgm", "videos", "title"), ("ix_users_email_trgm", "users", "email"))


def upgrade() -> None:
    zero = sa.text("0")
    op.create_table(
        "user_counts",
        sa.Column("organization_id", GUID(length=16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default=zero, nullable=False) for name in ROLES),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_user_counts_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_user_counts")),
    )
    COUNTS.create()
    if op.get_context().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        _trigram(["organization_id"])


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        _trigram([])  # the extension stays: other databases' objects on this server may use it
    COUNTS.drop()
    op.drop_table("user_counts")


def _trigram(leading: list[str]) -> None:
    for name, table, column in TRIGRAM_INDEXES:
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, [*leading, column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}
        )
