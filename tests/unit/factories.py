"""`make_*` builders with sensible defaults, the World of fakes, and helpers that go through real use cases."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from tests.unit.fakes import (
    PAID,
    T0,
    FakeClock,
    FakeHasher,
    FakeJobQueue,
    FakeLock,
    FakeMediaProbe,
    FakeScratchSpace,
    FakeStorage,
    FakeTokenCodec,
    FakeTranscoder,
    FakeUrlSigner,
    InMemoryStore,
)
from vidplat.adapters.local.limiter import MemoryAttemptLimiter
from vidplat.domain.accounts.auth import Authenticate, Login, LoginCommand, SessionCheck, TokenIssuer
from vidplat.domain.accounts.model import Organization, Principal, Role, Tokens, User
from vidplat.domain.accounts.policy import AuthPolicy
from vidplat.domain.accounts.signup import SignUp, SignUpCommand
from vidplat.domain.background import Background
from vidplat.domain.billing.model import Plan, Subscription
from vidplat.domain.billing.use_cases import Subscribe
from vidplat.domain.ids import new_id
from vidplat.domain.ports import UnitOfWork
from vidplat.domain.rewards.use_cases import CreditView
from vidplat.domain.videos.model import Video, VideoStatus
from vidplat.domain.videos.processing import ProcessUpload
from vidplat.domain.videos.transcoding import MakeRenditions
from vidplat.domain.videos.upload import UploadCommand, Uploads, UploadVideo

PASSWORD = "correct horse battery"
MAX_UPLOAD = 64 * 1024
VIEW_POINTS = 10
_serial = itertools.count(1)


@dataclass
class World:
    """Every fake a use case may need, sharing one store and one clock."""

    clock: FakeClock = field(default_factory=FakeClock)
    store: InMemoryStore = field(default_factory=InMemoryStore)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    codec: FakeTokenCodec = field(default_factory=FakeTokenCodec)
    signer: FakeUrlSigner = field(default_factory=FakeUrlSigner)
    lock: FakeLock = field(default_factory=FakeLock)
    jobs: FakeJobQueue = field(default_factory=FakeJobQueue)
    storage: FakeStorage = field(default_factory=FakeStorage)
    policy: AuthPolicy = field(default_factory=AuthPolicy)
    background: Background = field(default_factory=Background)  # where streams leave their view credits
    transcoder: FakeTranscoder = field(default_factory=FakeTranscoder)
    scratch: FakeScratchSpace = field(default_factory=FakeScratchSpace)
    limiter: MemoryAttemptLimiter = field(init=False)
    probe: FakeMediaProbe = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = MemoryAttemptLimiter(self.clock)
        self.storage.clock = self.clock
        self.probe = FakeMediaProbe(self.storage)

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        """The UnitOfWorkFactory: pass `world.uow` to use cases."""
        return self.store.uow(read_only=read_only)

    # The use cases most tests need, wired to the fakes.
    def login(self) -> Login:
        return Login(self.uow, self.hasher, self.limiter, self.issuer(), self.clock)

    def sign_up(self) -> SignUp:
        return SignUp(self.uow, self.hasher, self.clock, self.limiter, self.policy.signup_per_address)

    def issuer(self) -> TokenIssuer:
        return TokenIssuer(self.codec, self.policy)

    def sessions(self) -> SessionCheck:
        return SessionCheck(self.uow, self.clock)

    def authenticate(self) -> Authenticate:
        return Authenticate(self.codec, self.clock, self.sessions())

    def uploads(self, max_bytes: int = MAX_UPLOAD) -> Uploads:
        return Uploads(self.storage, self.jobs, max_bytes)

    def upload(self, max_bytes: int = MAX_UPLOAD) -> UploadVideo:
        return UploadVideo(self.uow, self.uploads(max_bytes), self.clock)

    def renditions(self) -> MakeRenditions:
        return MakeRenditions(self.uow, self.storage, self.transcoder, self.scratch, self.clock)

    def process(self, probe: FakeMediaProbe | None = None) -> ProcessUpload:
        return ProcessUpload(self.uow, self.storage, probe or self.probe, self.clock, self.renditions())

    def credit(self) -> CreditView:
        return CreditView(self.uow, self.lock, self.clock, VIEW_POINTS)


# --- entities --------------------------------------------------------------------------


def make_org(*, name: str | None = None, slug: str | None = None, created_at: datetime = T0) -> Organization:
    n = next(_serial)
    return Organization(id=new_id(), name=name or f"Org {n}", slug=slug or f"org-{n}", created_at=created_at)


def make_user(
    org: Organization,
    *,
    email: str | None = None,
    role: Role = Role.MEMBER,
    password: str = PASSWORD,
    created_at: datetime = T0,
    deleted_at: datetime | None = None,
) -> User:
    return User(
        id=new_id(),
        organization_id=org.id,
        email=email or f"user{next(_serial)}@{org.slug}.test",
        role=role,
        password_hash=FakeHasher.PREFIX + password,
        created_at=created_at,
        deleted_at=deleted_at,
    )


def make_principal(user: User, session_id: UUID | None = None) -> Principal:
    return Principal(user_id=user.id, organization_id=user.organization_id, role=user.role, session_id=session_id)


def make_subscription(
    org: Organization, plan: Plan = PAID, *, started_at: datetime = T0, ends_at: datetime | None = None
) -> Subscription:
    return Subscription(
        id=new_id(),
        organization_id=org.id,
        plan=plan,
        started_at=started_at,
        ends_at=ends_at if ends_at is not None else plan.ends_at(started_at),
    )


def make_video(
    uploader: User,
    *,
    title: str = "Quarterly review",
    status: VideoStatus = VideoStatus.READY,
    created_at: datetime = T0,
) -> Video:
    """A video row; a ready one points at storage keys that are not written (use publish_video for files)."""
    video_id = new_id()
    ready = status is VideoStatus.READY
    key = f"orgs/{uploader.organization_id}/videos/{video_id}/{new_id()}"
    return Video(
        id=video_id,
        organization_id=uploader.organization_id,
        title=title,
        description=None,
        status=status,
        uploaded_by=uploader.id,
        created_at=created_at,
        updated_at=created_at,
        storage_key=key if ready else None,
        thumbnail_key=f"{key}.jpg" if ready else None,
        pending_key=None if ready else key.replace("/videos/", "/uploads/"),
        size_bytes=2048 if ready else None,
        content_type="video/mp4" if ready else None,
    )


def mp4_bytes(size: int = 4096, *, tail: bytes = b"") -> bytes:
    """Bytes that sniff as an MP4 container (an `ftyp` box), padded to `size`."""
    head = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
    return head + tail + b"\x00" * max(0, size - len(head) - len(tail))


async def stream(data: bytes, chunk_size: int = 1000) -> AsyncIterator[bytes]:
    for at in range(0, len(data), chunk_size):
        yield data[at : at + chunk_size]


# --- tenants, through the real use cases ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Account:
    user: User
    principal: Principal


@dataclass(frozen=True, slots=True)
class Tenant:
    org: Organization
    admin: Account


async def sign_up(world: World, *, name: str = "Acme", email: str | None = None, password: str = PASSWORD) -> Tenant:
    """An organization with its first admin and TRIAL subscription, made by the real SignUp."""
    email = email or f"admin@{name.lower().replace(' ', '-')}.test"
    made = await world.sign_up()(SignUpCommand(name=name, admin_email=email, admin_password=password))
    org = made.organization
    admin = next(u for u in world.store.users.values() if u.organization_id == org.id)
    return Tenant(org=org, admin=Account(user=admin, principal=make_principal(admin)))


def add_user(
    world: World, tenant: Tenant, *, role: Role = Role.MEMBER, email: str | None = None, password: str = PASSWORD
) -> Account:
    """A user seeded straight into the store."""
    user = make_user(tenant.org, role=role, email=email, password=password, created_at=world.clock.now())
    world.store.insert(user)
    return Account(user=user, principal=make_principal(user))


async def log_in(world: World, tenant: Tenant, account: Account, password: str = PASSWORD) -> tuple[Tokens, Principal]:
    """Tokens of a fresh session and the Principal its access token authenticates as."""
    tokens = await world.login()(
        LoginCommand(organization=tenant.org.slug, email=account.user.email, password=password)
    )
    return tokens, await world.authenticate()(tokens.access_token)


async def subscribe_paid(world: World, tenant: Tenant) -> Subscription:
    return (await Subscribe(world.uow, world.clock)(tenant.admin.principal, "PAID")).subscription


async def upload(
    world: World, principal: Principal, *, title: str = "Quarterly review", data: bytes | None = None
) -> Video:
    """A video through the real UploadVideo: `processing`, its job enqueued."""
    command = UploadCommand(title=title, description=None, chunks=stream(mp4_bytes() if data is None else data))
    return await world.upload()(principal, command)


async def run_jobs(world: World) -> None:
    """Run every enqueued processing job once, as the worker would."""
    jobs, world.jobs.enqueued[:] = list(world.jobs.enqueued), []
    for video_id, key in jobs:
        await world.process()(video_id, key)


async def publish_video(world: World, principal: Principal, *, title: str = "Quarterly review") -> Video:
    """A ready video with its file and thumbnail in storage: upload, then process."""
    video = await upload(world, principal, title=title)
    await run_jobs(world)
    stored = world.store.videos[video.id]
    assert stored.status is VideoStatus.READY
    return stored
