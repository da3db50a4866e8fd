"""Request and response bodies: msgspec Structs shaped exactly as API.md says."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from vidplat.domain.accounts.model import MAX_EMAIL, MAX_ORG_NAME, MAX_PASSWORD, MIN_PASSWORD, Role, Tokens, User
from vidplat.domain.accounts.users import CreatedUser
from vidplat.domain.billing.model import Plan
from vidplat.domain.billing.queries import OrganizationOverview, SubscriptionState
from vidplat.domain.rewards.model import ViewCredit
from vidplat.domain.videos.model import MAX_DESCRIPTION, MAX_TITLE, Video, VideoStatus
from vidplat.domain.videos.renditions import Rendition
from vidplat.entrypoints.http.text import Line, Multiline

# Every text field refuses control characters (text.py); passwords are hashed, never stored, so take any.
Email = Annotated[str, Line, Meta(max_length=MAX_EMAIL, examples=["ada@example.com"])]
Password = Annotated[str, Meta(max_length=MAX_PASSWORD, examples=["correct horse battery"])]
# A password being set: its rule is documented (and checked) here as well as in the domain.
NewPassword = Annotated[str, Meta(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, examples=["correct horse battery"])]
Title = Annotated[str, Line, Meta(max_length=MAX_TITLE)]
Description = Annotated[str, Multiline, Meta(max_length=MAX_DESCRIPTION)]


# --- requests -----------------------------------------------------------------------------


class SignUpBody(Struct, forbid_unknown_fields=True):
    name: Annotated[str, Line, Meta(max_length=MAX_ORG_NAME, examples=["Acme Corp"])]
    admin_email: Email
    admin_password: NewPassword


class LoginBody(Struct, forbid_unknown_fields=True):
    organization: Annotated[str, Line, Meta(max_length=100, description="The organization's slug or id")]
    email: Email
    password: Password


class RefreshBody(Struct, forbid_unknown_fields=True):
    # Room for any token a client may mix up (an access JWT is ~400 characters): a wrong token is a 401.
    refresh_token: Annotated[str, Line, Meta(max_length=2048)]


class SubscribeBody(Struct, forbid_unknown_fields=True):
    plan: Annotated[str, Line, Meta(max_length=20, examples=["PAID"])]


class PasswordChangeBody(Struct, forbid_unknown_fields=True):
    current_password: Password
    new_password: NewPassword


class CreateUserBody(Struct, forbid_unknown_fields=True):
    email: Email
    password: NewPassword | None = None
    role: Role = Role.MEMBER


class UpdateUserBody(Struct, forbid_unknown_fields=True):
    password: NewPassword | None = None
    role: Role | None = None


class EditVideoBody(Struct, forbid_unknown_fields=True):
    title: Title | None = None
    description: Description | None = None


# --- responses ----------------------------------------------------------------------------


class HealthOut(Struct):
    status: str


class ReadyOut(Struct):
    status: str
    checks: dict[str, str]


class PlanOut(Struct):
    code: str
    name: str
    price: int
    duration_days: int | None
    can_restore_videos: bool
    max_storage_bytes: int | None
    max_users: int | None

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        return cls(
            plan.code.value,
            plan.name,
            plan.price,
            plan.duration_days,
            plan.can_restore_videos,
            plan.max_storage_bytes,
            plan.max_users,
        )


class PlanList(Struct):
    items: list[PlanOut]


class SubscriptionOut(Struct):
    id: UUID
    plan: PlanOut
    started_at: datetime
    ends_at: datetime | None
    active: bool

    @classmethod
    def of(cls, s: SubscriptionState) -> SubscriptionOut:
        sub = s.subscription
        return cls(sub.id, PlanOut.of(sub.plan), sub.started_at, sub.ends_at, s.active)


class SubscriptionPage(Struct):
    items: list[SubscriptionOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None


class UsageOut(Struct):
    storage_bytes: int
    users: int


class OrganizationOut(Struct):
    id: UUID
    name: str
    slug: str
    created_at: datetime
    subscription: SubscriptionOut | None
    usage: UsageOut

    @classmethod
    def of(cls, o: OrganizationOverview) -> OrganizationOut:
        org = o.organization
        sub = None if o.subscription is None else SubscriptionOut.of(o.subscription)
        return cls(org.id, org.name, org.slug, org.created_at, sub, UsageOut(o.usage.storage_bytes, o.usage.users))


class TokensOut(Struct):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int

    @classmethod
    def of(cls, t: Tokens) -> TokensOut:
        return cls(t.access_token, t.refresh_token, t.token_type, t.expires_in)


class UserOut(Struct):
    id: UUID
    email: str
    role: Role
    organization_id: UUID
    points: int
    created_at: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(u.id, u.email, u.role, u.organization_id, u.points, u.created_at)


class CreatedUserOut(UserOut, omit_defaults=True):
    initial_password: str | None = None

    @classmethod
    def created(cls, c: CreatedUser) -> CreatedUserOut:
        u = c.user
        return cls(u.id, u.email, u.role, u.organization_id, u.points, u.created_at, c.initial_password)


class UserPage(Struct):
    items: list[UserOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None


class CreditOut(Struct):
    video_id: UUID
    points: int
    awarded_at: datetime

    @classmethod
    def of(cls, c: ViewCredit) -> CreditOut:
        return cls(c.video_id, c.points, c.awarded_at)


class PointsOut(Struct):
    total: int
    items: list[CreditOut]
    limit: int
    offset: int
    next_cursor: str | None = None


class RenditionOut(Struct):
    name: str
    width: int
    height: int
    bandwidth: int

    @classmethod
    def of(cls, r: Rendition) -> RenditionOut:
        return cls(name=r.name, width=r.width, height=r.height, bandwidth=r.bandwidth)


class VideoOut(Struct):
    id: UUID
    title: str
    description: str | None
    status: VideoStatus
    failure_reason: str | None
    duration_seconds: float | None
    width: int | None
    height: int | None
    size_bytes: int | None
    content_type: str | None
    uploaded_by: UUID
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    replacement_pending: bool = False
    progress: int | None = None
    renditions: list[RenditionOut] = []

    @classmethod
    def of(cls, v: Video) -> VideoOut:
        return cls(
            id=v.id,
            title=v.title,
            description=v.description,
            status=v.status,
            failure_reason=v.failure_reason,
            duration_seconds=v.duration_seconds,
            width=v.width,
            height=v.height,
            size_bytes=v.size_bytes,
            content_type=v.content_type,
            uploaded_by=v.uploaded_by,
            created_at=v.created_at,
            updated_at=v.updated_at,
            deleted_at=v.deleted_at,
            replacement_pending=v.replacement_pending,
            progress=v.progress,
            renditions=[RenditionOut.of(r) for r in v.renditions],
        )


class VideoPage(Struct):
    items: list[VideoOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None


class PlaybackOut(Struct):
    url: str
    hls_url: str
    thumbnail_url: str
    expires_at: datetime
