"""Initial schema: accounts, billing (with the seeded plans), videos and the view-points ledger.

Revision ID: a6c1b3e89782
Revises:
Create Date: 2026-11-26 13:43:30.211244+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision = "a6c1b3e89782"
down_revision = None
branch_labels = None
depends_on = None

LIVE_USER = sa.text("deleted_at IS NULL")
CURRENT_SUBSCRIPTION = sa.text("ended_at IS NULL")
PENDING_UPLOAD = sa.text("pending_key IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("slug", sa.String(length=60), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name="uq_organizations_slug"),
    )
    op.create_index("uq_organizations_name", "organizations", [sa.text("lower(name)")], unique=True)

    op.create_table(
        "users",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("organization_id", GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("points", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("deleted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('admin', 'member')", name=op.f("ck_users_role")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_users_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(op.f("ix_users_organization_id"), "users", ["organization_id"])
    op.create_index(
        "uq_users_org_email",
        "users",
        ["organization_id", sa.text("lower(email)")],
        unique=True,
        postgresql_where=LIVE_USER,
        sqlite_where=LIVE_USER,
    )

    op.create_table(
        "sessions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("organization_id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_user_id"), "sessions", ["user_id"])

    op.create_table(
        "refresh_tokens",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("session_id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_refresh_tokens_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )

    plans = op.create_table(
        "plans",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("duration_days", sa.Integer(), nullable=True),
        sa.Column("can_restore_videos", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_plans")),
    )
    op.bulk_insert(
        plans,
        [
            {"code": "TRIAL", "name": "Trial", "price": 0, "duration_days": None, "can_restore_videos": False},
            {"code": "PAID", "name": "Paid", "price": 10000, "duration_days": 15, "can_restore_videos": True},
        ],
    )

    op.create_table(
        "subscriptions",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("organization_id", GUID(length=16), nullable=False),
        sa.Column("plan_code", sa.String(length=16), nullable=False),
        sa.Column("started_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("ended_at", DateTimeUTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_subscriptions_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["plan_code"], ["plans.code"], name=op.f("fk_subscriptions_plan_code_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscriptions")),
    )
    op.create_index(
        "uq_subscriptions_one_current",
        "subscriptions",
        ["organization_id"],
        unique=True,
        postgresql_where=CURRENT_SUBSCRIPTION,
        sqlite_where=CURRENT_SUBSCRIPTION,
    )
    op.create_index(
        "ix_subscriptions_lapsing",
        "subscriptions",
        ["ends_at"],
        postgresql_where=CURRENT_SUBSCRIPTION,
        sqlite_where=CURRENT_SUBSCRIPTION,
    )
    op.create_index("ix_subscriptions_history", "subscriptions", ["organization_id", "started_at"])

    op.create_table(
        "videos",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("organization_id", GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=250), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("pending_key", sa.String(length=255), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=255), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("video_codec", sa.String(length=50), nullable=True),
        sa.Column("audio_codec", sa.String(length=50), nullable=True),
        sa.Column("checksum", sa.String(length=128), nullable=True),
        sa.Column("deleted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('processing', 'ready', 'failed')", name=op.f("ck_videos_status")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_videos_organization_id_organizations")
        ),
        sa.ForeignKeyConstraint(["uploaded_by"], ["users.id"], name=op.f("fk_videos_uploaded_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_videos")),
    )
    op.create_index("ix_videos_organization_created", "videos", ["organization_id", "created_at"])
    op.create_index(
        "ix_videos_pending",
        "videos",
        ["updated_at"],
        postgresql_where=PENDING_UPLOAD,
        sqlite_where=PENDING_UPLOAD,
    )

    op.create_table(
        "view_credits",
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("organization_id", GUID(length=16), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("video_id", GUID(length=16), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("awarded_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_view_credits_user_id_users")),
        sa.ForeignKeyConstraint(["video_id"], ["videos.id"], name=op.f("fk_view_credits_video_id_videos")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_credits")),
        sa.UniqueConstraint("user_id", "video_id", name="uq_view_credits_user_video"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes; the order only has to respect the foreign keys.
    for table in (
        "view_credits",
        "videos",
        "subscriptions",
        "plans",
        "refresh_tokens",
        "sessions",
        "users",
        "organizations",
    ):
        op.drop_table(table)
