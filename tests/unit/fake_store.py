"""In-memory persistence: committed rows in one store, units of work that stage changes until commit.

It mimics what the SQL adapter gets from PostgreSQL (READ COMMITTED), so use cases meet the
same rules here as in production:

- a unit of work reads the committed rows overlaid with its own staged writes; others see
  its writes only after `commit()`; leaving the block without committing drops them;
- the unique constraints are checked at commit and raise the adapter's domain errors
  (OrganizationNameTaken, EmailTaken, SubscriptionConflict);
- writes to an existing row, `organizations.lock` and `credits.add_new` take a row lock held
  until commit or rollback, so a concurrent unit of work waits and then re-reads (which is
  how `end` and `mark_used` return False, and `add_new` leaves out the pair, to the loser
  of a race);
- every repository call yields to the event loop once, like a database round trip, so
  `asyncio.gather` really interleaves use cases.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from tests.plans import PAID, TRIAL
from tests.unit.fake_repositories import (
    FakeOrganizationRepository,
    FakePlanRepository,
    FakeRefreshTokenRepository,
    FakeSessionRepository,
    FakeSubscriptionRepository,
    FakeUserRepository,
    FakeVideoRepository,
    FakeViewCreditRepository,
    FakeWebhookOutbox,
    NoResumableUploads,
    Table,
)
from vidplat.domain.accounts.model import Organization, RefreshToken, Session, User, org_name_key
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.errors import Conflict, EmailTaken, OrganizationNameTaken, SlugTaken, SubscriptionConflict
from vidplat.domain.ports import (
    OrganizationRepository,
    PlanRepository,
    RefreshTokenRepository,
    ResumableUploadRepository,
    SessionRepository,
    SubscriptionRepository,
    UnitOfWork,
    UserRepository,
    VideoRepository,
    ViewCreditRepository,
    WebhookOutbox,
)
from vidplat.domain.rewards.model import ViewCredit
from vidplat.domain.videos.model import Video
from vidplat.domain.webhooks.model import WebhookEvent

_MAX_WAIT = 10_000  # event-loop turns a unit of work waits for a row lock before calling it a deadlock


class InMemoryStore:
    """The committed state every unit of work of one test shares; tests may read it directly."""

    def __init__(self, plans: Sequence[Plan] = (TRIAL, PAID)) -> None:
        self.plans: dict[PlanCode, Plan] = {plan.code: plan for plan in plans}
        self.organizations: dict[UUID, Organization] = {}
        self.users: dict[UUID, User] = {}
        self.sessions: dict[UUID, Session] = {}
        self.refresh_tokens: dict[UUID, RefreshToken] = {}
        self.subscriptions: dict[UUID, Subscription] = {}
        self.videos: dict[UUID, Video] = {}
        self.credits: dict[UUID, ViewCredit] = {}
        self.events: dict[UUID, WebhookEvent] = {}
        self.units: list[FakeUnitOfWork] = []
        self.commits = 0
        self.locked_organizations: list[UUID] = []
        self.broken: dict[str, Exception] = {}
        self.commit_errors: list[BaseException] = []
        self.claims: dict[Hashable, FakeUnitOfWork] = {}
        self.order: dict[UUID, int] = {}  # insertion order: a stable tie-break for equal timestamps
        self._sequence = itertools.count()

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work on this store: pass the bound method as the UnitOfWorkFactory."""
        unit = FakeUnitOfWork(self, read_only=read_only)
        self.units.append(unit)
        return unit

    def insert(self, *rows: Organization | User | Session | Subscription | Video | ViewCredit) -> None:
        """Seed committed rows directly, bypassing units of work and constraints."""
        for row in rows:
            self.remember(row.id)
            match row:
                case Organization():
                    self.organizations[row.id] = copy.copy(row)
                case User():
                    self.users[row.id] = copy.copy(row)
                case Session():
                    self.sessions[row.id] = copy.copy(row)
                case Subscription():
                    self.subscriptions[row.id] = copy.copy(row)
                case Video():
                    self.videos[row.id] = copy.copy(row)
                case ViewCredit():
                    self.credits[row.id] = row

    def fail_next_commit(self, error: BaseException) -> None:
        """The next commit raises `error` and writes nothing."""
        self.commit_errors.append(error)

    def break_repository(self, name: str, error: Exception) -> None:
        """Every call on the named repository (e.g. "credits", "videos") raises `error`."""
        self.broken[name] = error

    def remember(self, row_id: UUID) -> None:
        self.order.setdefault(row_id, next(self._sequence))

    @property
    def any_unit_open(self) -> bool:
        """Whether some unit of work is inside its block now (slow work must not run then)."""
        return any(unit.is_open for unit in self.units)


class FakeUnitOfWork:
    """One transaction on an InMemoryStore; `committed` tells whether commit() succeeded."""

    def __init__(self, store: InMemoryStore, *, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only
        self.committed = False
        self.rolled_back = False
        self._open = False
        self._claimed: set[Hashable] = set()
        # The fakes, for their own cross-table reads; the port-typed attributes the use cases see follow.
        self.fake_organizations = FakeOrganizationRepository(self)
        self.fake_users = FakeUserRepository(self)
        self.fake_sessions = FakeSessionRepository(self)
        self.fake_refresh_tokens = FakeRefreshTokenRepository(self)
        self.fake_plans = FakePlanRepository(self)
        self.fake_subscriptions = FakeSubscriptionRepository(self)
        self.fake_videos = FakeVideoRepository(self)
        self.fake_credits = FakeViewCreditRepository(self)
        self.fake_outbox = FakeWebhookOutbox(self)
        self.organizations: OrganizationRepository = self.fake_organizations
        self.users: UserRepository = self.fake_users
        self.sessions: SessionRepository = self.fake_sessions
        self.refresh_tokens: RefreshTokenRepository = self.fake_refresh_tokens
        self.plans: PlanRepository = self.fake_plans
        self.subscriptions: SubscriptionRepository = self.fake_subscriptions
        self.videos: VideoRepository = self.fake_videos
        self.credits: ViewCreditRepository = self.fake_credits
        self.outbox: WebhookOutbox = self.fake_outbox
        self.resumable_uploads: ResumableUploadRepository = NoResumableUploads()

    @property
    def tables(self) -> list[Table[Any]]:
        return [
            self.fake_organizations.table,
            self.fake_users.table,
            self.fake_sessions.table,
            self.fake_refresh_tokens.table,
            self.fake_subscriptions.table,
            self.fake_videos.table,
            self.fake_credits.table,
            self.fake_outbox.table,
        ]

    async def __aenter__(self) -> Self:
        assert not self._open, "a unit of work is entered once"
        self._open = True
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if any(table.staged for table in self.tables) or self.fake_users.points:
            self.rolled_back = True
        for table in self.tables:
            table.staged.clear()
        self.fake_users.points.clear()
        self._release()
        self._open = False

    async def commit(self) -> None:
        self.ensure_open()
        if self.read_only:
            raise AssertionError("commit() in a read-only unit of work")
        await asyncio.sleep(0)
        if self.store.commit_errors:
            raise self.store.commit_errors.pop(0)
        self._check_constraints()
        self.fake_users.publish()
        for table in self.tables:
            table.publish()
        self._release()
        self.committed = True
        self.store.commits += 1

    @property
    def is_open(self) -> bool:
        return self._open

    def ensure_open(self) -> None:
        assert self._open, "repository used outside its unit of work's `async with` block"

    async def claim(self, key: Hashable) -> None:
        """A row lock until commit or rollback; waits while another unit of work holds it."""
        for _ in range(_MAX_WAIT):
            holder = self.store.claims.get(key)
            if holder is None or holder is self:
                self.store.claims[key] = self
                self._claimed.add(key)
                return
            await asyncio.sleep(0)
        raise AssertionError(f"row lock {key!r} never released: two open units of work in one task?")

    def _release(self) -> None:
        for key in self._claimed:
            if self.store.claims.get(key) is self:
                del self.store.claims[key]
        self._claimed.clear()

    def _check_constraints(self) -> None:
        orgs = self.fake_organizations.table.rows()
        _unique((org_name_key(o.name) for o in orgs), OrganizationNameTaken)
        _unique((o.slug for o in orgs), SlugTaken)
        users = [u for u in self.fake_users.table.rows() if u.deleted_at is None]
        _unique(((u.organization_id, u.email.lower()) for u in users), EmailTaken)
        _unique((s.organization_id for s in self.fake_subscriptions.table.rows() if s.is_current), SubscriptionConflict)
        credits = self.fake_credits.table.rows()
        _unique(((c.user_id, c.video_id) for c in credits), lambda: Conflict("uq_view_credits_user_video"))


def _unique(keys: Iterable[Hashable], error: Callable[[], Exception]) -> None:
    seen: set[Hashable] = set()
    for key in keys:
        if key in seen:
            raise error()
        seen.add(key)
