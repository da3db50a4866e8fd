"""In-memory repositories: each reads a table as its unit of work sees it (see fake_store)."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar
from uuid import UUID

from vidplat.domain.accounts.model import Organization, RefreshToken, Role, Session, User, UserField, org_name_key
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.pagination import Cursor, Page, PageRequest, Slice
from vidplat.domain.rewards.model import Standing, ViewCredit, Viewer
from vidplat.domain.uploads.model import ResumableUpload
from vidplat.domain.videos.model import Video, VideoField, VideoStatus
from vidplat.domain.webhooks.model import WebhookEvent

if TYPE_CHECKING:
    from tests.unit.fake_store import FakeUnitOfWork, InMemoryStore


class _Entity(Protocol):
    @property
    def id(self) -> UUID: ...


E = TypeVar("E", bound=_Entity)


class Table(Generic[E]):
    """One table as a unit of work sees it: the committed rows overlaid with its staged writes."""

    def __init__(self, uow: FakeUnitOfWork, name: str, committed: dict[UUID, E]) -> None:
        self.uow = uow
        self.name = name
        self.committed = committed
        self.staged: dict[UUID, E] = {}

    def rows(self) -> list[E]:
        merged = {**self.committed, **self.staged}
        return [copy.copy(row) for row in merged.values()]

    def find(self, row_id: UUID) -> E | None:
        row = self.staged.get(row_id, self.committed.get(row_id))
        return None if row is None else copy.copy(row)

    def insert(self, row: E) -> None:
        self.uow.store.remember(row.id)
        self.staged[row.id] = copy.copy(row)

    async def write(self, row: E) -> bool:
        """UPDATE by id: locks the row; False (and nothing staged) when it does not exist."""
        await self.uow.claim((self.name, row.id))
        if self.find(row.id) is None:
            return False
        self.staged[row.id] = copy.copy(row)
        return True

    async def write_fields(self, row: E, fields: Iterable[str]) -> None:
        """UPDATE of some columns by id: the others keep what this unit of work sees now."""
        await self.uow.claim((self.name, row.id))
        if (current := self.find(row.id)) is not None:
            for name in fields:
                setattr(current, name, getattr(row, name))
            self.staged[row.id] = current

    def publish(self) -> None:
        self.committed.update(self.staged)
        self.staged.clear()


def _sorted(rows: Iterable[E], store: InMemoryStore, key: Callable[[E], datetime], *, newest_first: bool) -> list[E]:
    return sorted(rows, key=lambda row: (key(row), store.order.get(row.id, 0)), reverse=newest_first)


def _page(rows: list[E], page: PageRequest) -> Page[E]:
    # Cursors are SQL semantics: tests/integration/test_sql_pages.py walks them on both databases.
    assert page.after is None, "the fakes page by offset only"
    return Page(rows[page.offset : page.offset + page.limit], len(rows), page.limit, page.offset)


def _same_organization(stored: User | Video | None, organization_id: UUID) -> bool:
    """UPDATE ... WHERE id = :id AND organization_id = :org, as the SQL adapter scopes its writes."""
    return stored is not None and stored.organization_id == organization_id


class _Calls:
    name: ClassVar[str]  # the store's table, and what InMemoryStore.break_repository takes

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    async def _call(self) -> None:
        """Every repository call: must be inside the block, may be broken, yields like a round trip."""
        self.uow.ensure_open()
        if (error := self.uow.store.broken.get(self.name)) is not None:
            raise error
        await asyncio.sleep(0)


class _Repository(_Calls, Generic[E]):
    def __init__(self, uow: FakeUnitOfWork) -> None:
        super().__init__(uow)
        self.table: Table[E] = Table(uow, self.name, getattr(uow.store, self.name))


class FakeOrganizationRepository(_Repository[Organization]):
    name = "organizations"

    async def add(self, organization: Organization) -> None:
        await self._call()
        self.table.insert(organization)

    async def get(self, organization_id: UUID) -> Organization | None:
        await self._call()
        return self.table.find(organization_id)

    async def get_by_slug(self, slug: str) -> Organization | None:
        await self._call()
        return next((org for org in self.table.rows() if org.slug == slug), None)

    async def name_exists(self, name: str) -> bool:
        await self._call()
        return any(org_name_key(org.name) == org_name_key(name) for org in self.table.rows())

    async def slug_exists(self, slug: str) -> bool:
        await self._call()
        return any(org.slug == slug for org in self.table.rows())

    async def lock(self, organization_id: UUID) -> None:
        await self._call()
        await self.uow.claim(("organization-lock", organization_id))
        self.uow.store.locked_organizations.append(organization_id)

    async def lock_many(self, organization_ids: Collection[UUID]) -> None:
        for organization_id in sorted(organization_ids):
            await self.lock(organization_id)


class FakeUserRepository(_Repository[User]):
    """`update` writes only the fields named (never `points`: only `add_points` changes them, as in SQL)."""

    name = "users"

    def __init__(self, uow: FakeUnitOfWork) -> None:
        super().__init__(uow)
        self.points: dict[UUID, int] = {}

    def present(self, user: User) -> User:
        stored = self.table.committed.get(user.id)
        user.points = (user.points if stored is None else stored.points) + self.points.get(user.id, 0)
        return user

    def active(self, organization_id: UUID) -> list[User]:
        return [
            self.present(u) for u in self.table.rows() if u.organization_id == organization_id and u.deleted_at is None
        ]

    async def add(self, user: User) -> None:
        await self._call()
        self.table.insert(user)

    async def update(self, user: User, *fields: UserField) -> None:
        await self._call()
        if _same_organization(self.table.find(user.id), user.organization_id):
            await self.table.write_fields(user, fields)

    async def get(self, organization_id: UUID, user_id: UUID, *, for_update: bool = False) -> User | None:
        await self._call()
        if for_update:
            await self.uow.claim((self.name, user_id))
        return next((u for u in self.active(organization_id) if u.id == user_id), None)

    async def get_by_email(self, organization_id: UUID, email: str) -> User | None:
        await self._call()
        return next((u for u in self.active(organization_id) if u.email.lower() == email.lower()), None)

    async def list(
        self, organization_id: UUID, page: PageRequest, *, role: Role | None, email_query: str | None
    ) -> Page[User]:
        await self._call()
        found = [
            u
            for u in self.active(organization_id)
            if (role is None or u.role == role) and (email_query is None or email_query.lower() in u.email.lower())
        ]
        return _page(_sorted(found, self.uow.store, lambda u: u.created_at, newest_first=False), page)

    async def count_admins(self, organization_id: UUID) -> int:
        await self._call()
        return sum(u.is_admin for u in self.active(organization_id))

    async def count_active(self, organization_id: UUID) -> int:
        await self._call()
        return len(self.active(organization_id))

    async def add_points(self, points: Mapping[UUID, int]) -> None:
        await self._call()
        for user_id in sorted(points):  # row locks in id order, as the SQL adapter takes them
            await self.uow.claim((self.name, user_id))
            if self.table.find(user_id) is not None:
                self.points[user_id] = self.points.get(user_id, 0) + points[user_id]

    async def leaderboard(self, organization_id: UUID, page: PageRequest) -> Page[Standing]:
        # An order with ties and a partial index: SQL semantics, tested on the real unit of work instead.
        raise NotImplementedError("insights are tested against SQLite and PostgreSQL")

    def publish(self) -> None:
        """Fold the increments into the staged rows, over the committed totals (the table publishes them)."""
        for user_id, row in self.table.staged.items():
            if (stored := self.table.committed.get(user_id)) is not None:
                row.points = stored.points
        for user_id, delta in self.points.items():
            row = self.table.staged.get(user_id) or copy.copy(self.table.committed[user_id])
            row.points += delta
            self.table.staged[user_id] = row
        self.points.clear()


class FakeSessionRepository(_Repository[Session]):
    name = "sessions"

    async def add(self, session: Session) -> None:
        await self._call()
        self.table.insert(session)

    async def get(self, session_id: UUID) -> Session | None:
        await self._call()
        return self.table.find(session_id)

    async def revoke(self, session_id: UUID, at: datetime) -> None:
        await self._call()
        await self._revoke(session_id, at)

    async def revoke_all_for_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None:
        await self._call()
        for session in self.table.rows():
            if session.user_id == user_id and session.id != keep:
                await self._revoke(session.id, at)

    async def _revoke(self, session_id: UUID, at: datetime) -> None:
        await self.uow.claim((self.name, session_id))
        session = self.table.find(session_id)
        if session is not None and session.revoked_at is None:
            session.revoked_at = at
            await self.table.write(session)

    async def get_principal_user(self, session_id: UUID, now: datetime) -> User | None:
        await self._call()
        session = self.table.find(session_id)
        if session is None or not session.is_live(now):
            return None
        user = self.uow.fake_users.table.find(session.user_id)
        return None if user is None or user.deleted_at is not None else self.uow.fake_users.present(user)


class FakeRefreshTokenRepository(_Repository[RefreshToken]):
    name = "refresh_tokens"

    async def add(self, token: RefreshToken) -> None:
        await self._call()
        self.table.insert(token)

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        await self._call()
        return next((t for t in self.table.rows() if t.token_hash == token_hash), None)

    async def mark_used(self, token_id: UUID, at: datetime) -> bool:
        await self._call()
        await self.uow.claim((self.name, token_id))
        token = self.table.find(token_id)
        if token is None or token.used_at is not None:
            return False
        token.used_at = at
        return await self.table.write(token)


class FakePlanRepository(_Calls):
    name = "plans"

    async def list(self) -> Sequence[Plan]:
        await self._call()
        return list(self.uow.store.plans.values())

    async def get(self, code: PlanCode) -> Plan | None:
        await self._call()
        return self.uow.store.plans.get(code)


class FakeSubscriptionRepository(_Repository[Subscription]):
    name = "subscriptions"

    async def add(self, subscription: Subscription) -> None:
        await self._call()
        self.table.insert(subscription)

    async def current(self, organization_id: UUID) -> Subscription | None:
        await self._call()
        return next((s for s in self.table.rows() if s.organization_id == organization_id and s.is_current), None)

    async def end(self, subscription_id: UUID, at: datetime) -> bool:
        await self._call()
        await self.uow.claim((self.name, subscription_id))
        subscription = self.table.find(subscription_id)
        if subscription is None or not subscription.is_current:
            return False
        subscription.ended_at = at
        return await self.table.write(subscription)

    async def history(self, organization_id: UUID, page: PageRequest) -> Page[Subscription]:
        await self._call()
        mine = [s for s in self.table.rows() if s.organization_id == organization_id]
        return _page(_sorted(mine, self.uow.store, lambda s: s.started_at, newest_first=True), page)

    async def lapsed(self, now: datetime, limit: int, *, after: Cursor | None = None) -> Sequence[Subscription]:
        await self._call()
        due = [s for s in self.table.rows() if s.is_current and s.ends_at is not None and s.ends_at <= now]
        due.sort(key=lambda s: (s.ends_at or now, s.id))
        if after is not None:
            due = [s for s in due if (s.ends_at or now, s.id) > (after.times[0], after.id)]
        return due[:limit]

    async def add_many(self, subscriptions: Sequence[Subscription]) -> None:
        for subscription in subscriptions:
            await self.add(subscription)

    async def end_lapsed(self, subscription_ids: Collection[UUID]) -> set[UUID]:
        ended = set()
        for subscription_id in subscription_ids:
            subscription = self.table.find(subscription_id)
            ends_at = subscription.ends_at if subscription is not None else None
            if ends_at is not None and await self.end(subscription_id, ends_at):
                ended.add(subscription_id)
        return ended


class FakeVideoRepository(_Repository[Video]):
    name = "videos"

    async def add(self, video: Video) -> None:
        await self._call()
        self.table.insert(video)

    async def update(self, video: Video, *fields: VideoField) -> None:
        await self._call()
        if _same_organization(self.table.find(video.id), video.organization_id):
            await self.table.write_fields(video, fields)

    async def get(
        self, organization_id: UUID, video_id: UUID, *, deleted: bool = False, for_update: bool = False
    ) -> Video | None:
        await self._call()
        if for_update:
            await self.uow.claim((self.name, video_id))
        video = self.table.find(video_id)
        if video is None or video.organization_id != organization_id or video.is_deleted != deleted:
            return None
        return None if video.purged_at is not None else video

    async def get_any(self, video_id: UUID, *, for_update: bool = False) -> Video | None:
        await self._call()
        if for_update:
            await self.uow.claim((self.name, video_id))
        return self.table.find(video_id)

    async def stuck_processing(self, older_than: datetime, limit: int) -> Sequence[Video]:
        await self._call()
        stuck = [v for v in self.table.rows() if v.pending_key is not None and v.updated_at < older_than]
        return _sorted(stuck, self.uow.store, lambda v: v.updated_at, newest_first=False)[:limit]

    async def set_progress(self, video: Video, progress: int) -> bool:
        await self._call()
        await self.uow.claim((self.name, video.id))
        stored = self.table.find(video.id)
        if stored is None or video.pending_key is None or stored.pending_key != video.pending_key:
            return False
        stored.progress = progress
        await self.table.write_fields(stored, ("progress",))
        return True

    async def storage_bytes(self, organization_id: UUID) -> int:
        await self._call()
        return sum(
            (v.size_bytes or 0 if v.storage_key is not None else 0) + (v.pending_bytes or 0)
            for v in self.table.rows()
            if v.organization_id == organization_id and v.purged_at is None
        )

    async def purgeable(self, deleted_before: datetime, limit: int) -> Sequence[Video]:
        # No skipping of locked rows here: tests/integration/test_trash_purge.py runs purges on both databases.
        await self._call()
        due = [v for v in self.table.rows() if v.deleted_at is not None and v.deleted_at < deleted_before]
        due = [v for v in due if v.purged_at is None]
        return _sorted(due, self.uow.store, lambda v: v.deleted_at or deleted_before, newest_first=False)[:limit]

    async def list(
        self,
        organization_id: UUID,
        page: PageRequest,
        *,
        statuses: Sequence[VideoStatus] | None,
        title_query: str | None,
        deleted: bool = False,
        total: int | None = None,
    ) -> Page[Video]:
        await self._call()
        found = self._matching(organization_id, statuses, title_query, deleted)
        listed = _page(_sorted(found, self.uow.store, lambda v: v.created_at, newest_first=True), page)
        return listed if total is None else Page(listed.items, total, listed.limit, listed.offset)

    async def count(
        self,
        organization_id: UUID,
        *,
        statuses: Sequence[VideoStatus] | None,
        title_query: str | None,
        deleted: bool = False,
    ) -> int:
        await self._call()
        return len(self._matching(organization_id, statuses, title_query, deleted))

    def _matching(
        self, organization_id: UUID, statuses: Sequence[VideoStatus] | None, title_query: str | None, deleted: bool
    ) -> Sequence[Video]:
        return [
            v
            for v in self.table.rows()
            if v.organization_id == organization_id
            and v.is_deleted == deleted
            and v.purged_at is None
            and (statuses is None or v.status in statuses)
            and (title_query is None or title_query.lower() in v.title.lower())
        ]


class FakeViewCreditRepository(_Repository[ViewCredit]):
    name = "credits"

    async def add_new(self, credits: Sequence[ViewCredit]) -> list[ViewCredit]:
        """INSERT ... ON CONFLICT DO NOTHING: waits for a concurrent insert of the same pair to settle."""
        await self._call()
        added = []
        for credit in sorted(credits, key=lambda c: (c.user_id, c.video_id)):
            await self.uow.claim(("credit", credit.user_id, credit.video_id))
            if not any(c.user_id == credit.user_id and c.video_id == credit.video_id for c in self.table.rows()):
                self.table.insert(credit)
                added.append(credit)
        return [c for c in credits if c in added]

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Slice[ViewCredit]:
        await self._call()
        mine = [c for c in self.table.rows() if c.user_id == user_id]
        listed = _page(_sorted(mine, self.uow.store, lambda c: c.awarded_at, newest_first=True), page)
        return Slice(listed.items, listed.limit, listed.offset)

    async def viewers(self, organization_id: UUID, video_id: UUID, page: PageRequest) -> Page[Viewer]:
        # A join, an order and a count: SQL semantics, tested on the real unit of work instead.
        raise NotImplementedError("insights are tested against SQLite and PostgreSQL")


class FakeWebhookOutbox(_Repository[WebhookEvent]):
    """Keeps the events only: which endpoints get them is the SQL adapter's, tested on both databases."""

    name = "events"

    async def record(self, event: WebhookEvent) -> None:
        await self._call()
        self.table.insert(event)


class NoResumableUploads:
    """Resumable uploads rest on conditional SQL updates: their tests use the real unit of work, not this."""

    def _refuse(self) -> AssertionError:
        return AssertionError("resumable uploads are tested on the SQL unit of work (tests/integration)")

    async def add(self, upload: ResumableUpload) -> None:
        raise self._refuse()

    async def get(self, organization_id: UUID, upload_id: UUID) -> ResumableUpload | None:
        raise self._refuse()

    async def advance(self, upload: ResumableUpload, offset: int, parts: Sequence[str], now: datetime) -> bool:
        raise self._refuse()

    async def finish(self, upload_id: UUID, video_id: UUID) -> None:
        raise self._refuse()

    async def end(self, organization_id: UUID, upload_id: UUID, at: datetime) -> bool:
        raise self._refuse()

    async def expired(self, now: datetime, limit: int) -> Sequence[ResumableUpload]:
        raise self._refuse()

    async def remove(self, upload_id: UUID) -> None:
        raise self._refuse()

    async def reserved_bytes(self, organization_id: UUID) -> int:
        return 0  # add() refuses, so no upload here reserves anything
