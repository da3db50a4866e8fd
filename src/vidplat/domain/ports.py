"""Ports: everything the core needs from the outside world, as small Protocols."""

from __future__ import annotations

from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Collection,
    Hashable,
    Mapping,
    Sequence,
)
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TypeVar
from uuid import UUID

from vidplat.domain.accounts.model import AccessClaims, Organization, RefreshToken, Role, Session, User, UserField
from vidplat.domain.accounts.policy import Quota
from vidplat.domain.billing.model import Plan, PlanCode, Subscription
from vidplat.domain.pagination import Cursor, Page, PageRequest, Slice
from vidplat.domain.rewards.model import Standing, ViewCredit, Viewer
from vidplat.domain.uploads.model import ResumableUpload
from vidplat.domain.uploads.ports import WriteState
from vidplat.domain.videos.model import MediaInfo, PlaybackClaims, Video, VideoField, VideoStatus
from vidplat.domain.videos.renditions import Rung, TranscodeResult
from vidplat.domain.webhooks.model import Attempt, Delivery, DeliveryStatus, Endpoint, WebhookEvent

T = TypeVar("T")

# --- time, secrets, tokens ----------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class PasswordHasher(Protocol):
    async def hash(self, password: str) -> str: ...

    async def verify(self, password_hash: str, password: str) -> bool:
        """True when the password matches; never raises for a mismatch."""
        ...


class TokenCodec(Protocol):
    def encode_access(self, claims: AccessClaims) -> str: ...

    def decode_access(self, token: str, now: datetime) -> AccessClaims:
        """The claims of a valid, unexpired access token; raises InvalidToken otherwise."""
        ...


class UrlSigner(Protocol):
    """Signs playback grants (user and session, kind, expiry, video) with its own key."""

    def sign(self, claims: PlaybackClaims, video_id: UUID) -> str: ...

    def verify(self, token: str, video_id: UUID, now: datetime) -> PlaybackClaims:
        """What the token was issued as; raises InvalidToken when tampered, expired or for another video."""
        ...


class AttemptLimiter(Protocol):
    """Counts attempts per key in the windows of a Quota (login and signup throttling).

    The attempt is counted before it is judged, atomically, so concurrent attempts cannot all
    pass a check that none of them has recorded yet.
    """

    async def hit(self, quota: Quota, key: str) -> int:
        """Count one attempt: the seconds to wait when it is over the quota (refuse it), else 0."""
        ...

    async def reset(self, quota: Quota, key: str) -> None: ...


# --- coordination and background work ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """What a hold_free block got: the keys it holds, and those an earlier holder left done."""

    keys: frozenset[str]
    done: frozenset[str] = frozenset()
    # Held keys whose work the block finished: released marked done, for a while, where the lock keeps marks.
    finished: set[str] = field(default_factory=set)


class Lock(Protocol):
    def hold_free(self, keys: Collection[str]) -> AbstractAsyncContextManager[Held]:
        """Hold, for the block, those of the keys nobody holds now and none left done, without waiting.

        A key the block adds to `finished` is left done when released, so that later callers
        (in any process) learn they need not do its work, until the mark expires. A lock may keep
        no marks (one process's: its callers know what they finished): then `done` is empty.
        Raises LockUnavailable if the backend fails. Never waiting while holding is what lets
        batches of keys overlap without deadlocking.
        """
        ...


class LockUnavailable(Exception):
    """The lock backend failed or did not answer in time."""


class ReadCache(Protocol):
    """Values read from the database, kept until a topic they depend on changes (see domain/topics.py).

    Committed writes announce their topics (the unit of work does), so a cached value is never
    served after the change that outdated it has reached this process. Values are shared between
    callers: treat them as read-only.
    """

    async def get_or_load(self, key: Hashable, topics: Collection[str], load: Callable[[], Awaitable[T]]) -> T: ...


class JobQueue(Protocol):
    async def enqueue_video_processing(self, video_id: UUID, upload_key: str) -> None:
        """Schedule ProcessUpload; called only after the transaction that staged the upload commits.

        One job per upload: while the upload's job is queued or running, enqueuing it again is a no-op.
        """
        ...

    async def enqueue_webhook_delivery(self, delivery_id: UUID, attempts: int) -> None:
        """Schedule one attempt of a delivery (`attempts` made so far: a repeat of the same is a no-op)."""
        ...


# --- files and media ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredObject:
    """What the store knows about one object, without its bytes."""

    key: str
    size: int
    etag: str | None
    last_modified: datetime


class Storage(Protocol):
    """A flat key -> bytes store (local files or S3). Keys are generated by the core, never taken from users.

    Every write is atomic: readers see the whole object or nothing. A full store raises StorageFull,
    an unreachable one Unavailable; a missing key raises FileNotFoundError.
    """

    async def write(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int) -> int:
        """Store the stream under key, never holding it all in memory, and return its size.

        Raises PayloadTooLarge (keeping nothing) when it exceeds max_bytes.
        """
        ...

    async def put_bytes(self, key: str, data: bytes) -> None: ...

    async def put_file(self, key: str, path: Path) -> None:
        """Store a local file under key, streamed from disk (never read whole into memory)."""
        ...

    async def move(self, source: str, target: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Remove the key; a missing key is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object whose key starts with prefix; returns how many."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def head(self, key: str) -> StoredObject: ...

    def list(self, prefix: str) -> AsyncIterator[StoredObject]:
        """Every published object under prefix, in no particular order."""
        ...

    def read(self, key: str, start: int, length: int) -> AsyncGenerator[bytes, None]:
        """Stream `length` bytes of the key from `start`, in bounded chunks; aclose() releases the source."""
        ...

    async def checksum(self, key: str) -> str:
        """SHA-256 hex digest of the stored bytes."""
        ...

    async def presign_get(self, key: str, ttl: timedelta) -> str | None:
        """A URL that serves the object (with Range) to anyone for ttl; None when the store cannot make one."""
        ...

    async def sweep_temporary(self, older_than: timedelta) -> int:
        """Remove unfinished writes idle longer than older_than (left by a crash); returns how many."""
        ...


class MediaFile(Protocol):
    """One stored video, opened for the media tool."""

    @property
    def path(self) -> Path:
        """A local file holding the video while it is open (a copy when the store is remote)."""
        ...

    async def probe(self) -> MediaInfo:
        """Facts about the video; raises UnreadableMedia when it is not a playable video."""
        ...

    async def thumbnail(self, at_seconds: float) -> bytes:
        """A JPEG of the frame nearest to at_seconds."""
        ...


class MediaProbe(Protocol):
    def open(self, key: str) -> AbstractAsyncContextManager[MediaFile]:
        """The stored object, readable by the media tool for the block (the adapter fetches a copy if it must)."""
        ...


class UnreadableMedia(Exception):
    """The media tool could not read the file; the message is safe to show to users."""


class Transcoder(Protocol):
    async def transcode(
        self,
        source: Path,
        out_dir: Path,
        ladder: Sequence[Rung],
        on_progress: Callable[[int], Awaitable[None]] | None = None,
    ) -> TranscodeResult:
        """HLS renditions of the local source (master.m3u8, one folder each, storyboard) in out_dir, replaced.

        on_progress hears whole percents as they are reached. Raises TranscodeFailed with the reason;
        out_dir is then removed.
        """
        ...


class ScratchSpace(Protocol):
    """Local working directories for the media tools, outside the store."""

    def directory(self, name: str) -> AbstractAsyncContextManager[Path]:
        """An empty directory for the block, removed after it.

        The same name gives the same directory, emptied first: a retry clears what a killed attempt left.
        """
        ...


class TranscodeFailed(Exception):
    """The source could not be transcoded (damaged, over a cap, out of resources); the message is the reason."""


# --- persistence -------------------------------------------------------------------------


class OrganizationRepository(Protocol):
    async def add(self, organization: Organization) -> None: ...

    async def get(self, organization_id: UUID) -> Organization | None: ...

    async def get_by_slug(self, slug: str) -> Organization | None: ...

    async def name_exists(self, name: str) -> bool:
        """Case-insensitive."""
        ...

    async def slug_exists(self, slug: str) -> bool: ...

    async def lock(self, organization_id: UUID) -> None:
        """Serialise writers of the organization's aggregate for the rest of the transaction."""
        ...

    async def lock_many(self, organization_ids: Collection[UUID]) -> None:
        """`lock` for several, taken in id order so that two batches cannot deadlock."""
        ...


class UserRepository(Protocol):
    async def add(self, user: User) -> None: ...

    async def update(self, user: User, *fields: UserField) -> None:
        """Write the named fields only: a column this use case did not change keeps its committed value."""
        ...

    async def get(self, organization_id: UUID, user_id: UUID, *, for_update: bool = False) -> User | None:
        """An active (not deleted) user of the organization.

        for_update locks the row until the transaction ends, for a use case that decides on what it read.
        """
        ...

    async def get_by_email(self, organization_id: UUID, email: str) -> User | None:
        """An active user by normalized email."""
        ...

    async def list(
        self, organization_id: UUID, page: PageRequest, *, role: Role | None, email_query: str | None
    ) -> Page[User]: ...

    async def count_admins(self, organization_id: UUID) -> int:
        """Active admins of the organization."""
        ...

    async def count_active(self, organization_id: UUID) -> int:
        """Active users of the organization."""
        ...

    async def add_points(self, points: Mapping[UUID, int]) -> None:
        """Atomically add to each user's running total."""
        ...

    async def leaderboard(self, organization_id: UUID, page: PageRequest) -> Page[Standing]:
        """Active users by points, highest first, equal totals by id."""
        ...


class SessionRepository(Protocol):
    async def add(self, session: Session) -> None: ...

    async def get(self, session_id: UUID) -> Session | None: ...

    async def revoke(self, session_id: UUID, at: datetime) -> None: ...

    async def revoke_all_for_user(self, user_id: UUID, at: datetime, *, keep: UUID | None = None) -> None: ...

    async def get_principal_user(self, session_id: UUID, now: datetime) -> User | None:
        """The active user behind a live session, or None when the session or user is gone."""
        ...


class RefreshTokenRepository(Protocol):
    async def add(self, token: RefreshToken) -> None: ...

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None: ...

    async def mark_used(self, token_id: UUID, at: datetime) -> bool:
        """Spend the token; False when it was already spent (a concurrent refresh won)."""
        ...


class PlanRepository(Protocol):
    async def list(self) -> Sequence[Plan]: ...

    async def get(self, code: PlanCode) -> Plan | None: ...


class SubscriptionRepository(Protocol):
    async def add(self, subscription: Subscription) -> None: ...

    async def current(self, organization_id: UUID) -> Subscription | None:
        """The organization's subscription that has not been ended."""
        ...

    async def end(self, subscription_id: UUID, at: datetime) -> bool:
        """End a current subscription; False when it was already ended."""
        ...

    async def history(self, organization_id: UUID, page: PageRequest) -> Page[Subscription]: ...

    async def lapsed(self, now: datetime, limit: int, *, after: Cursor | None = None) -> Sequence[Subscription]:
        """Current subscriptions whose end has passed, by (ends_at, id), after `after` if given."""
        ...

    async def add_many(self, subscriptions: Sequence[Subscription]) -> None: ...

    async def end_lapsed(self, subscription_ids: Collection[UUID]) -> set[UUID]:
        """End each at its own `ends_at` if it is still current: the ids this call ended."""
        ...


class VideoRepository(Protocol):
    async def add(self, video: Video) -> None: ...

    async def update(self, video: Video, *fields: VideoField) -> None:
        """Write the named fields only: a column this use case did not change keeps its committed value."""
        ...

    async def get(
        self, organization_id: UUID, video_id: UUID, *, deleted: bool = False, for_update: bool = False
    ) -> Video | None:
        """A video of the organization: live ones by default, trashed (not purged) ones with deleted=True.

        for_update locks the row until the transaction ends, for a use case that decides on what it read.
        """
        ...

    async def get_any(self, video_id: UUID, *, for_update: bool = False) -> Video | None:
        """Any video by id, deleted or not, for work that is not acting for a caller."""
        ...

    async def stuck_processing(self, older_than: datetime, limit: int) -> Sequence[Video]:
        """Videos with an upload pending since before `older_than`."""
        ...

    async def set_progress(self, video: Video, progress: int) -> bool:
        """Write `progress` only while the video's `pending_key` is still the pending upload (a conditional write).

        False when that upload was superseded, published or failed meanwhile: nothing is written.
        """
        ...

    async def storage_bytes(self, organization_id: UUID) -> int:
        """Bytes the organization's videos hold (served files and pending uploads), trash included, purged not."""
        ...

    async def purgeable(self, deleted_before: datetime, limit: int) -> Sequence[Video]:
        """Unpurged videos trashed before the cutoff, oldest first, locked; rows another transaction
        holds are skipped, so concurrent purges take disjoint batches."""
        ...

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
        """Newest first; `total`, when the caller already has it from `count`, is not counted again."""
        ...

    async def count(
        self,
        organization_id: UUID,
        *,
        statuses: Sequence[VideoStatus] | None,
        title_query: str | None,
        deleted: bool = False,
    ) -> int: ...


class ViewCreditRepository(Protocol):
    async def add_new(self, credits: Sequence[ViewCredit]) -> list[ViewCredit]:
        """Insert those whose (user, video) the ledger lacks: the ones this call inserted."""
        ...

    async def list_for_user(self, user_id: UUID, page: PageRequest) -> Slice[ViewCredit]:
        """The user's credits, newest first (the running total is the user's points, not a count)."""
        ...

    async def viewers(self, organization_id: UUID, video_id: UUID, page: PageRequest) -> Page[Viewer]:
        """The video's credits of active users, newest first."""
        ...


class ResumableUploadRepository(Protocol):
    async def add(self, upload: ResumableUpload) -> None: ...

    async def get(self, organization_id: UUID, upload_id: UUID) -> ResumableUpload | None: ...

    async def claim(self, upload: ResumableUpload, now: datetime) -> int | None:
        """Count one more claim if the row is still at upload.offset, incomplete and live: the new count, else None."""
        ...

    async def advance(self, upload: ResumableUpload, offset: int, state: WriteState, now: datetime) -> bool:
        """Record stored bytes only if the row is still at upload.offset, incomplete and live (a conditional write).

        False when another PATCH moved the offset first, or the upload ended.
        """
        ...

    async def complete(self, upload: ResumableUpload, video_id: UUID, now: datetime) -> bool:
        """Record the last bytes and the video, on the same conditions as `advance`."""
        ...

    async def end(self, organization_id: UUID, upload_id: UUID, at: datetime) -> bool:
        """Make a live upload expire at `at`; False when there is none."""
        ...

    async def expired(self, now: datetime, limit: int) -> Sequence[ResumableUpload]: ...

    async def reserved_bytes(self, organization_id: UUID) -> int:
        """The Upload-Length of every incomplete upload of the organization: storage it has reserved."""
        ...

    async def remove(self, upload_id: UUID) -> None: ...


class UnitOfWork(Protocol):
    """One transaction. Leaving the block without commit() rolls everything back."""

    @property
    def organizations(self) -> OrganizationRepository: ...
    @property
    def users(self) -> UserRepository: ...
    @property
    def sessions(self) -> SessionRepository: ...
    @property
    def refresh_tokens(self) -> RefreshTokenRepository: ...
    @property
    def plans(self) -> PlanRepository: ...
    @property
    def subscriptions(self) -> SubscriptionRepository: ...
    @property
    def videos(self) -> VideoRepository: ...
    @property
    def credits(self) -> ViewCreditRepository: ...
    @property
    def outbox(self) -> WebhookOutbox: ...
    @property
    def resumable_uploads(self) -> ResumableUploadRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None:
        """Commit; constraint violations surface here as domain errors."""
        ...


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        """A new unit of work; a read-only one may skip the transaction's round trips and locks."""
        ...


# --- webhooks ----------------------------------------------------------------------------


class WebhookOutbox(Protocol):
    async def record(self, *events: WebhookEvent) -> None:
        """Keep each event, with one pending delivery per endpoint of its organization that wants it."""
        ...


class WebhookRepository(Protocol):
    async def add(self, endpoint: Endpoint) -> None: ...

    async def list(self, organization_id: UUID, page: PageRequest) -> Page[Endpoint]: ...

    async def delete(self, organization_id: UUID, endpoint_id: UUID) -> bool:
        """Remove the endpoint and its delivery log; False when the organization has no such endpoint."""
        ...

    async def deliveries(self, organization_id: UUID, endpoint_id: UUID, page: PageRequest) -> Page[Delivery] | None:
        """The endpoint's delivery log, newest first; None when the organization has no such endpoint."""
        ...

    async def due(self, now: datetime, limit: int) -> Sequence[Delivery]:
        """Pending deliveries whose next attempt is due, longest waiting first."""
        ...

    async def claim(self, delivery_id: UUID, now: datetime, until: datetime) -> Attempt | None:
        """Start an attempt of a due pending delivery: counts it, and holds it off others until `until`."""
        ...

    async def finish(
        self,
        attempt: Attempt,
        *,
        status: DeliveryStatus,
        status_code: int | None,
        at: datetime,
        next_attempt_at: datetime,
    ) -> bool:
        """Record the attempt's outcome; False when a later claim has taken the delivery over."""
        ...


class WebhookUnitOfWork(Protocol):
    """The unit of work as the webhook use cases see it."""

    @property
    def webhooks(self) -> WebhookRepository: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def commit(self) -> None: ...


class WebhookUnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False) -> WebhookUnitOfWork: ...


class WebhookSender(Protocol):
    """Outbound HTTP to integrators' endpoints, refusing targets inside our network."""

    async def vet(self, url: str) -> None:
        """Raise WebhookUrlRefused unless the URL is http(s) and every address it resolves to may be called."""
        ...

    async def send(self, url: str, secret: str, message_id: str, timestamp: datetime, body: bytes) -> int | None:
        """POST the body signed as Standard Webhooks: the response status, None when there was none."""
        ...
