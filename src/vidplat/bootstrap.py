"""The composition root: Settings -> adapters -> use cases. Nothing else picks adapters."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from urllib.parse import urlparse
from urllib.request import url2pathname

from redis.asyncio import Redis
from saq import Queue
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from vidplat.adapters.clock import SystemClock
from vidplat.adapters.local.cache import LocalInvalidations, MemoryReadCache
from vidplat.adapters.local.jobs import InProcessJobQueue, InProcessScheduler, Periodic
from vidplat.adapters.local.limiter import MemoryAttemptLimiter
from vidplat.adapters.local.lock import InProcessLock
from vidplat.adapters.local.scratch import LocalScratchSpace
from vidplat.adapters.media.limits import MIB, MediaLimits
from vidplat.adapters.media.probe import PyAvProbe
from vidplat.adapters.media.transcode import SubprocessTranscoder, TranscodeLimits
from vidplat.adapters.metrics import count_events
from vidplat.adapters.outbound.webhooks import GuardedWebhookSender
from vidplat.adapters.redis.health import redis_ready
from vidplat.adapters.redis.invalidations import RedisInvalidations
from vidplat.adapters.redis.limiter import RedisAttemptLimiter
from vidplat.adapters.redis.lock import RedisLock
from vidplat.adapters.saq.queue import PrefixedQueue, RetryPolicy, SaqJobQueue
from vidplat.adapters.security.access_tokens import JwtTokenCodec
from vidplat.adapters.security.passwords import Argon2Hasher
from vidplat.adapters.security.playback import HmacUrlSigner
from vidplat.adapters.sql.engine import database_ready, make_engine
from vidplat.adapters.sql.uow import unit_of_work_factory
from vidplat.adapters.storage.local import LocalStorage
from vidplat.adapters.storage.local_resumable import LocalResumableStorage
from vidplat.domain.accounts.policy import AuthPolicy, Quota
from vidplat.domain.pagination import Page
from vidplat.domain.ports import AttemptLimiter, Clock, JobQueue, Lock, PasswordHasher
from vidplat.domain.uploads.ports import ResumableStorage
from vidplat.domain.use_cases import Policy, Ports, UseCases, build_use_cases
from vidplat.domain.webhooks.delivery import enqueue_deliveries
from vidplat.settings import Settings, StorageSettings

if TYPE_CHECKING:
    from vidplat.adapters.storage.s3 import S3Storage

Check = Callable[[], Awaitable[bool | str]]  # True, or False / a word saying what is wrong
MediaStore: TypeAlias = "LocalStorage | S3Storage"
# Rows a process's read cache may hold (a page of the catalog weighs its items): about 1 KB
# each, so tens of MB at most, whatever mix of sessions, videos and pages is asked for.
CACHE_MAX_ROWS = 20_000
# Heads of HLS files (a few hundred bytes each): the segments a busy process serves, a few MB.
# Files are written once under their key, so the TTL only bounds what an unused entry costs.
HEADS_MAX = 10_000
HEADS_TTL = timedelta(hours=1)


def _rows(value: object) -> int:
    return len(value.items) + 1 if isinstance(value, Page) else 1


@dataclass(slots=True)
class Container:
    """Everything a running process needs, and the resources to release when it stops."""

    settings: Settings
    use_cases: UseCases
    checks: dict[str, Check]
    engine: AsyncEngine
    storage: MediaStore
    scratch: LocalScratchSpace
    cache: MemoryReadCache
    redis: Redis | None = None
    saq_queue: Queue | None = None
    jobs: InProcessJobQueue | None = None
    scheduler: InProcessScheduler | None = None
    invalidations: RedisInvalidations | None = None  # keeps the read cache in step with other processes
    _listening: asyncio.Task[None] | None = None

    async def start(self, *, run_schedules: bool = True, cache_reads: bool = True) -> None:
        """Connect and start the background tasks; `cache_reads=False` (the SAQ worker) leaves the
        production read cache off, so it needs no subscription to other processes' changes."""
        # Writes idle that long were cut short by a crash: nothing will finish them.
        idle = timedelta(seconds=self.settings.storage.staging_ttl_seconds)
        await self.storage.sweep_temporary(idle)
        await self.scratch.sweep(idle)
        if self.saq_queue is not None:
            await self.saq_queue.connect()
        if self.scheduler is not None and run_schedules:
            self.scheduler.start()
        if self.invalidations is not None and cache_reads:
            self._listening = asyncio.create_task(self.invalidations.listen(), name="cache invalidations")

    async def close(self) -> None:
        # First, while everything they need is still open: a graceful stop keeps pending view credits.
        await self.use_cases.background.drain(BACKGROUND_GRACE_SECONDS)
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self.jobs is not None:
            await self.jobs.close()
        if self.saq_queue is not None:
            await self.saq_queue.disconnect()
        if self.redis is not None:
            await self.redis.aclose()
        await self.engine.dispose()


async def _in_process() -> bool:
    """In-process adapters are up whenever the process is."""
    return True


def media_store(settings: StorageSettings, scratch_dir: Path) -> MediaStore:
    """The store VIDPLAT_STORAGE_URL names; `scratch_dir` holds local copies for the media tools."""
    if not settings.is_s3:
        return LocalStorage(Path(url2pathname(urlparse(settings.url).path)))
    # Imported only when used: obstore costs the embedded mode's cold start tens of milliseconds.
    from vidplat.adapters.storage.s3 import S3Storage, s3_store

    store = s3_store(
        settings.url,
        endpoint=settings.s3_endpoint_url,
        access_key_id=settings.aws_access_key_id,
        secret_access_key=settings.aws_secret_access_key,
        region=settings.aws_region,
    )
    return S3Storage(store, scratch_dir)


def resumable_store(settings: StorageSettings, storage: MediaStore) -> ResumableStorage:
    """Writes across requests (tus) in the same store: a temporary file, or a running multipart upload."""
    if isinstance(storage, LocalStorage):
        return LocalResumableStorage(storage)
    from vidplat.adapters.storage.s3_resumable import S3ResumableStorage, s3_client

    client = s3_client(
        settings.url,
        endpoint=settings.s3_endpoint_url,
        access_key_id=settings.aws_access_key_id,
        secret_access_key=settings.aws_secret_access_key,
        region=settings.aws_region,
    )
    return S3ResumableStorage(storage, client)


async def check_storage(settings: Settings) -> None:
    """Raise StoreUnreachable (one line for the operator) unless the configured object store answers."""
    store = media_store(settings.storage, settings.data_dir / "scratch")
    if not isinstance(store, LocalStorage):
        await store.check()


# Past the credit lock's 5 s bound and the pool's timeout behind it, inside a server's stop grace.
BACKGROUND_GRACE_SECONDS = 20


def saq_queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:jobs"


def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    job_policy: RetryPolicy | None = None,
) -> Container:
    """Wire the production adapters when Redis is configured, the embedded ones otherwise.

    Tests pass a clock, a cheaper hasher or a faster job retry policy; nothing else varies.
    """
    clock = clock or SystemClock()
    count_events()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pgbouncer=settings.db_pgbouncer,
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    cache = MemoryReadCache(
        clock,
        ttl=timedelta(seconds=settings.cache_ttl_seconds),
        max_weight=CACHE_MAX_ROWS,
        weigh=_rows,
        # With Redis, other processes write too: off until their invalidations are heard.
        active=settings.embedded,
    )
    storage = media_store(settings.storage, settings.data_dir / "scratch")
    scratch = LocalScratchSpace(settings.data_dir / "scratch" / "transcodes")
    transcoder = SubprocessTranscoder(
        TranscodeLimits(max_pixels=settings.media_max_pixels, max_duration_seconds=settings.media_max_duration_seconds)
    )
    auth = settings.auth
    hasher = hasher or Argon2Hasher(auth.argon2_time_cost, auth.argon2_memory_kib, auth.argon2_parallelism)
    checks: dict[str, Check] = {"database": lambda: database_ready(engine), "storage": storage.ready}
    redis: Redis | None = None
    invalidations: RedisInvalidations | None = None
    saq_queue: Queue | None = None
    in_process: InProcessJobQueue | None = None
    lock: Lock
    limiter: AttemptLimiter
    jobs: JobQueue
    if settings.redis_url is not None:
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=2)
        invalidations = RedisInvalidations(redis, f"{settings.redis_prefix}:cache", cache)
        publish = invalidations.publish
        lock = RedisLock(redis, settings.redis_prefix)
        limiter = RedisAttemptLimiter(redis, settings.redis_prefix, fallback=MemoryAttemptLimiter(clock))
        saq_queue = PrefixedQueue.from_url(settings.redis_url, name=saq_queue_name(settings))
        jobs = SaqJobQueue(saq_queue, job_policy)
        checks["lock"] = checks["job_queue"] = lambda: redis_ready(redis)
    else:
        publish = LocalInvalidations(cache).publish
        lock = InProcessLock()
        limiter = MemoryAttemptLimiter(clock)
        # Late-bound: the job runner and the use cases it runs are built from each other.
        jobs = in_process = InProcessJobQueue(
            lambda video_id, key: use_cases.process_upload(video_id, key),  # noqa: PLW0108
            deliver=lambda delivery_id: use_cases.deliver_webhook(delivery_id),  # noqa: PLW0108
        )
        checks["lock"] = checks["job_queue"] = _in_process
    uow = unit_of_work_factory(sessions, publish, lambda deliveries: enqueue_deliveries(jobs, deliveries))
    use_cases = build_use_cases(
        Ports(
            uow=uow,
            clock=clock,
            hasher=hasher,
            codec=JwtTokenCodec(auth.jwt_secret),
            signer=HmacUrlSigner(auth.playback_secret.encode()),
            limiter=limiter,
            lock=lock,
            jobs=jobs,
            storage=storage,
            writes=resumable_store(settings.storage, storage),
            probe=PyAvProbe(
                storage.scratch,
                MediaLimits(
                    max_pixels=settings.media_max_pixels,
                    max_duration_seconds=settings.media_max_duration_seconds,
                    max_memory_bytes=settings.media_max_memory_mib * MIB,
                ),
            ),
            transcoder=transcoder,
            scratch=scratch,
            cache=cache,
            heads=MemoryReadCache(clock, ttl=HEADS_TTL, max_weight=HEADS_MAX),
            webhook_uow=uow,
            webhook_sender=GuardedWebhookSender(allow_private=settings.webhooks_allow_private),
        ),
        Policy(
            auth=AuthPolicy(
                access_ttl=timedelta(seconds=auth.access_ttl_seconds),
                refresh_ttl=timedelta(days=auth.refresh_ttl_days),
                login_failures=Quota("login-account", auth.login_max_failures, auth.login_window_seconds),
                login_per_address=Quota(
                    "login-address", auth.login_address_max_attempts, auth.login_address_window_seconds
                ),
                signup_per_address=Quota(
                    "signup-address", auth.signup_address_max_attempts, auth.signup_address_window_seconds
                ),
            ),
            view_points=settings.view_points,
            playback_ttl=timedelta(seconds=auth.playback_ttl_seconds),
            max_upload_bytes=settings.max_upload_bytes,
            staging_ttl=timedelta(seconds=settings.storage.staging_ttl_seconds),
            webhooks_key=settings.webhooks_key.encode() if settings.webhooks_key else None,
            trash_retention=timedelta(days=settings.trash_retention_days),
            upload_expiry=timedelta(hours=settings.upload_expiry_hours),
        ),
    )
    scheduler = None
    if in_process is not None:
        scheduler = InProcessScheduler(
            [
                Periodic("expire_subscriptions", 60, use_cases.expire_subscriptions),
                Periodic("fail_stuck_uploads", 600, use_cases.fail_stuck_uploads),
                Periodic("sweep_storage", 60, use_cases.sweep_storage),
                Periodic("sweep_webhooks", 60, use_cases.sweep_webhooks),
                # At start-up too: the jobs of a process that stopped died with it, their uploads did not.
                Periodic("requeue_pending_uploads", 60, use_cases.requeue_pending_uploads),
                Periodic("purge_trash", 3600, use_cases.purge_trash),
                Periodic("expire_uploads", 300, use_cases.expire_uploads),
            ]
        )
    return Container(
        settings=settings,
        use_cases=use_cases,
        checks=checks,
        engine=engine,
        storage=storage,
        scratch=scratch,
        cache=cache,
        redis=redis,
        saq_queue=saq_queue,
        jobs=in_process,
        scheduler=scheduler,
        invalidations=invalidations,
    )
