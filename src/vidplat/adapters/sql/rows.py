"""ORM rows: the relational shape of the domain. They never leave adapters/sql."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.base import CommonTableAttributes, create_registry
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(CommonTableAttributes, DeclarativeBase, AsyncAttrs):
    """Declarative base on a registry of its own, so the migrations see vidplat's tables and nothing else."""

    __abstract__ = True
    # advanced-alchemy's registry maps UUID -> GUID and datetime -> DateTimeUTC (aware UTC on every dialect).
    registry = create_registry()


class OrganizationRow(Base):
    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("slug", name="uq_organizations_slug"),
        UniqueConstraint("name_key", name="uq_organizations_name"),
    )

    id: Mapped[UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    # What names are unique by (domain org_name_key: NFKC + casefold); casefolding can triple a name.
    name_key: Mapped[str] = mapped_column(String(400))
    slug: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime]


class UserRow(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('admin', 'member')", name="role"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    points: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class SessionRow(Base):
    __tablename__ = "sessions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"), index=True)
    organization_id: Mapped[UUID]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    session_id: Mapped[UUID] = mapped_column(ForeignKey("sessions.id"))
    token_hash: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PlanRow(Base):
    __tablename__ = "plans"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    price: Mapped[int]
    duration_days: Mapped[int | None]
    can_restore_videos: Mapped[bool] = mapped_column(Boolean)
    max_storage_bytes: Mapped[int | None] = mapped_column(BigInteger)  # NULL: unlimited
    max_users: Mapped[int | None]


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"))
    plan_code: Mapped[str] = mapped_column(ForeignKey("plans.code"))
    started_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    # Plans are a handful of reference rows: always load them with the subscription.
    plan: Mapped[PlanRow] = relationship(lazy="joined", innerjoin=True)


class VideoRow(Base):
    __tablename__ = "videos"
    __table_args__ = (CheckConstraint("status IN ('processing', 'ready', 'failed')", name="status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"))
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    uploaded_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    storage_key: Mapped[str | None] = mapped_column(String(255))
    pending_key: Mapped[str | None] = mapped_column(String(255))
    thumbnail_key: Mapped[str | None] = mapped_column(String(255))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    content_type: Mapped[str | None] = mapped_column(String(100))
    video_codec: Mapped[str | None] = mapped_column(String(50))
    audio_codec: Mapped[str | None] = mapped_column(String(50))
    checksum: Mapped[str | None] = mapped_column(String(128))
    deleted_at: Mapped[datetime | None]
    pending_bytes: Mapped[int | None] = mapped_column(BigInteger)
    purged_at: Mapped[datetime | None]
    progress: Mapped[int | None] = mapped_column(SmallInteger)
    renditions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, server_default=text("'[]'"))


class VideoCountRow(Base):
    """An organization's videos by status (live ones) and in the trash, kept by triggers on videos."""

    __tablename__ = "video_counts"

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    processing: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    ready: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    failed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    trashed: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class UserCountRow(Base):
    """An organization's active users by role, kept by triggers on users."""

    __tablename__ = "user_counts"

    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    admin: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    member: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class ViewCreditRow(Base):
    __tablename__ = "view_credits"
    __table_args__ = (UniqueConstraint("user_id", "video_id", name="uq_view_credits_user_video"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID]
    user_id: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    video_id: Mapped[UUID] = mapped_column(ForeignKey("videos.id"))
    points: Mapped[int]
    awarded_at: Mapped[datetime]


class ResumableUploadRow(Base):
    __tablename__ = "resumable_uploads"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"))
    created_by: Mapped[UUID] = mapped_column(ForeignKey("users.id"))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger)
    # The store's record of the write (multipart upload, parts, tail), and how many writes claimed it.
    write_state: Mapped[dict[str, Any]] = mapped_column(JSON)
    claims: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(String(255))
    replace_video_id: Mapped[UUID | None]
    video_id: Mapped[UUID | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


_live_user = UserRow.deleted_at.is_(None)
Index(
    "uq_users_org_email",
    UserRow.organization_id,
    func.lower(UserRow.email),
    unique=True,
    postgresql_where=_live_user,
    sqlite_where=_live_user,
)
_current = SubscriptionRow.ended_at.is_(None)
Index(
    "uq_subscriptions_one_current",
    SubscriptionRow.organization_id,
    unique=True,
    postgresql_where=_current,
    sqlite_where=_current,
)
Index(
    "ix_subscriptions_lapsing",
    SubscriptionRow.ends_at,
    SubscriptionRow.id,  # the expiry's batches walk it by (ends_at, id)
    postgresql_where=_current,
    sqlite_where=_current,
)
Index("ix_subscriptions_history", SubscriptionRow.organization_id, SubscriptionRow.started_at)
Index("ix_videos_organization_created", VideoRow.organization_id, VideoRow.created_at)
_pending = VideoRow.pending_key.is_not(None)
Index("ix_videos_pending", VideoRow.updated_at, postgresql_where=_pending, sqlite_where=_pending)


class WebhookEndpointRow(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[str] = mapped_column(String(200))  # space-separated event types
    secret_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime]


class WebhookEventRow(Base):
    __tablename__ = "webhook_events"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    organization_id: Mapped[UUID] = mapped_column(ForeignKey("organizations.id"))
    type: Mapped[str] = mapped_column(String(40))
    body: Mapped[bytes] = mapped_column(LargeBinary)  # exactly the bytes every delivery sends and signs
    created_at: Mapped[datetime]


class WebhookDeliveryRow(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    endpoint_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_endpoints.id"))
    event_id: Mapped[UUID] = mapped_column(ForeignKey("webhook_events.id"))
    type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    last_status_code: Mapped[int | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime]


Index("ix_webhook_endpoints_organization", WebhookEndpointRow.organization_id, WebhookEndpointRow.created_at)
Index("ix_webhook_deliveries_endpoint", WebhookDeliveryRow.endpoint_id, WebhookDeliveryRow.created_at)
_undelivered = WebhookDeliveryRow.status == "pending"
Index(
    "ix_webhook_deliveries_due",
    WebhookDeliveryRow.next_attempt_at,
    postgresql_where=_undelivered,
    sqlite_where=_undelivered,
)
# Insights: a video's viewers newest first (also the index behind the video_id foreign key), and
# an organization's leaderboard of active users, highest first, ties by id.
Index("ix_view_credits_video_awarded", ViewCreditRow.video_id, ViewCreditRow.awarded_at.desc(), ViewCreditRow.id.desc())
Index(
    "ix_users_leaderboard",
    UserRow.organization_id,
    UserRow.points.desc(),
    UserRow.id,
    postgresql_where=_live_user,
    sqlite_where=_live_user,
)


# Listing pages walk these in key order (backwards for newest first) and stop after a page; the
# totals count them without visiting the table (status and role ride along for the filters).
_live_video = VideoRow.deleted_at.is_(None)
_trashed_video = VideoRow.deleted_at.is_not(None)
for _name, _where in (("ix_videos_live_page", _live_video), ("ix_videos_trash_page", _trashed_video)):
    Index(
        _name,
        VideoRow.organization_id,
        VideoRow.created_at,
        VideoRow.id,
        postgresql_include=["status"],
        postgresql_where=_where,
        sqlite_where=_where,
    )
Index(
    "ix_users_live_page",
    UserRow.organization_id,
    UserRow.created_at,
    UserRow.id,
    postgresql_include=["role"],
    postgresql_where=_live_user,
    sqlite_where=_live_user,
)
Index("ix_view_credits_user_ledger", ViewCreditRow.user_id, ViewCreditRow.awarded_at, ViewCreditRow.id)
# Substring search (ILIKE '%q%') on PostgreSQL, within one organization (btree_gin): a search
# rechecks its own organization's candidates only. SQLite has no equivalent and scans one organization.
for _table, _organization, _column in (
    ("videos", VideoRow.organization_id, VideoRow.title),
    ("users", UserRow.organization_id, UserRow.email),
):
    Index(
        f"ix_{_table}_{_column.key}_trgm",
        _organization,
        _column,
        postgresql_using="gin",
        postgresql_ops={_column.key: "gin_trgm_ops"},
    ).ddl_if(dialect="postgresql")

_purgeable = VideoRow.deleted_at.is_not(None) & VideoRow.purged_at.is_(None)
Index("ix_videos_purgeable", VideoRow.deleted_at, postgresql_where=_purgeable, sqlite_where=_purgeable)
