"""Every use case of vidplat, built once from the ports: the one thing entrypoints call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from vidplat.domain.accounts.auth import Authenticate, Login, Logout, Refresh, SessionCheck, TokenIssuer
from vidplat.domain.accounts.policy import AuthPolicy
from vidplat.domain.accounts.signup import SignUp
from vidplat.domain.accounts.users import ChangeOwnPassword, CreateUser, DeleteUser, GetUser, ListUsers, UpdateUser
from vidplat.domain.background import Background
from vidplat.domain.billing.use_cases import (
    ExpireSubscriptions,
    GetOrganization,
    ListPlans,
    Subscribe,
    SubscriptionHistory,
)
from vidplat.domain.ports import (
    AttemptLimiter,
    Clock,
    JobQueue,
    Lock,
    MediaProbe,
    PasswordHasher,
    ReadCache,
    ScratchSpace,
    Storage,
    TokenCodec,
    Transcoder,
    UnitOfWorkFactory,
    UrlSigner,
    WebhookSender,
    WebhookUnitOfWorkFactory,
)
from vidplat.domain.rewards.insights import Leaderboard, VideoViewers
from vidplat.domain.rewards.use_cases import CreditView, ListMyPoints
from vidplat.domain.uploads.ports import ResumableStorage
from vidplat.domain.uploads.use_cases import AppendToUpload, CreateUpload, ExpireUploads, GetUpload, TerminateUpload
from vidplat.domain.videos.catalog import (
    DeleteVideo,
    EditVideo,
    GetVideo,
    ListDeletedVideos,
    ListVideos,
    RestoreVideo,
)
from vidplat.domain.videos.hls import OpenHlsFile, ReadPlaylist
from vidplat.domain.videos.playback import GetThumbnail, IssuePlayback, OpenStream, RedeemPlayback, ViewCredits
from vidplat.domain.videos.processing import FailStuckUploads, ProcessUpload, RequeuePendingUploads
from vidplat.domain.videos.purge import PurgeTrash
from vidplat.domain.videos.sweep import SweepStorage
from vidplat.domain.videos.transcoding import MakeRenditions
from vidplat.domain.videos.upload import ReplaceVideoFile, Uploads, UploadVideo
from vidplat.domain.webhooks.delivery import DeliverWebhook, SweepWebhooks
from vidplat.domain.webhooks.endpoints import CreateEndpoint, DeleteEndpoint, ListDeliveries, ListEndpoints


@dataclass(frozen=True, slots=True, kw_only=True)
class Ports:
    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    codec: TokenCodec
    signer: UrlSigner
    limiter: AttemptLimiter
    lock: Lock
    jobs: JobQueue
    storage: Storage
    writes: ResumableStorage  # the same store, written across requests (tus)
    probe: MediaProbe
    transcoder: Transcoder
    scratch: ScratchSpace
    cache: ReadCache
    # What the store said about immutable files (HLS renditions): needs no invalidation, so stays on.
    heads: ReadCache
    webhook_uow: WebhookUnitOfWorkFactory  # the same units of work as `uow`, seen through the webhooks' port
    webhook_sender: WebhookSender


@dataclass(frozen=True, slots=True, kw_only=True)
class Policy:
    auth: AuthPolicy
    view_points: int
    playback_ttl: timedelta
    max_upload_bytes: int
    staging_ttl: timedelta = timedelta(hours=1)
    webhooks_key: bytes | None = None
    trash_retention: timedelta = timedelta(days=30)
    upload_expiry: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCases:
    sign_up: SignUp
    login: Login
    refresh: Refresh
    logout: Logout
    authenticate: Authenticate
    get_user: GetUser
    list_users: ListUsers
    create_user: CreateUser
    update_user: UpdateUser
    delete_user: DeleteUser
    change_own_password: ChangeOwnPassword
    list_plans: ListPlans
    get_organization: GetOrganization
    subscribe: Subscribe
    subscription_history: SubscriptionHistory
    expire_subscriptions: ExpireSubscriptions
    list_my_points: ListMyPoints
    credit_view: CreditView
    upload_video: UploadVideo
    replace_video_file: ReplaceVideoFile
    process_upload: ProcessUpload
    fail_stuck_uploads: FailStuckUploads
    requeue_pending_uploads: RequeuePendingUploads
    get_video: GetVideo
    list_videos: ListVideos
    list_deleted_videos: ListDeletedVideos
    edit_video: EditVideo
    delete_video: DeleteVideo
    restore_video: RestoreVideo
    issue_playback: IssuePlayback
    redeem_playback: RedeemPlayback
    open_stream: OpenStream
    read_playlist: ReadPlaylist
    open_hls_file: OpenHlsFile
    get_thumbnail: GetThumbnail
    sweep_storage: SweepStorage
    video_viewers: VideoViewers
    leaderboard: Leaderboard
    background: Background  # what use cases left running after answering (view credits): drained at stop
    create_webhook: CreateEndpoint
    list_webhooks: ListEndpoints
    delete_webhook: DeleteEndpoint
    list_webhook_deliveries: ListDeliveries
    deliver_webhook: DeliverWebhook
    sweep_webhooks: SweepWebhooks
    purge_trash: PurgeTrash
    create_upload: CreateUpload
    get_upload: GetUpload
    append_to_upload: AppendToUpload
    terminate_upload: TerminateUpload
    expire_uploads: ExpireUploads


def build_use_cases(p: Ports, policy: Policy) -> UseCases:
    issuer = TokenIssuer(p.codec, policy.auth)
    sessions = SessionCheck(p.uow, p.clock, p.cache)
    background = Background()
    credits = ViewCredits(CreditView(p.uow, p.lock, p.clock, policy.view_points), p.cache, background)
    uploads = Uploads(p.storage, p.jobs, policy.max_upload_bytes)
    renditions = MakeRenditions(p.uow, p.storage, p.transcoder, p.scratch, p.clock)
    process = ProcessUpload(p.uow, p.storage, p.probe, p.clock, renditions)
    upload_video = UploadVideo(p.uow, uploads, p.clock)
    replace_video_file = ReplaceVideoFile(p.uow, uploads, p.clock)
    get_upload = GetUpload(p.uow, p.clock)
    return UseCases(
        sign_up=SignUp(p.uow, p.hasher, p.clock, p.limiter, policy.auth.signup_per_address),
        login=Login(p.uow, p.hasher, p.limiter, issuer, p.clock),
        refresh=Refresh(p.uow, issuer, p.clock),
        logout=Logout(p.uow, p.clock),
        authenticate=Authenticate(p.codec, p.clock, sessions),
        get_user=GetUser(p.uow),
        list_users=ListUsers(p.uow),
        create_user=CreateUser(p.uow, p.hasher, p.clock),
        update_user=UpdateUser(p.uow, p.hasher, p.clock),
        delete_user=DeleteUser(p.uow, p.clock),
        change_own_password=ChangeOwnPassword(p.uow, p.hasher, p.clock),
        list_plans=ListPlans(p.uow),
        get_organization=GetOrganization(p.uow, p.clock),
        subscribe=Subscribe(p.uow, p.clock),
        subscription_history=SubscriptionHistory(p.uow, p.clock),
        expire_subscriptions=ExpireSubscriptions(p.uow, p.clock),
        list_my_points=ListMyPoints(p.uow),
        credit_view=credits.credit,
        upload_video=upload_video,
        replace_video_file=replace_video_file,
        process_upload=process,
        fail_stuck_uploads=FailStuckUploads(p.uow, process, p.clock),
        requeue_pending_uploads=RequeuePendingUploads(p.uow, p.jobs, p.clock),
        get_video=GetVideo(p.uow, p.cache),
        list_videos=ListVideos(p.uow, p.cache),
        list_deleted_videos=ListDeletedVideos(p.uow),
        edit_video=EditVideo(p.uow, p.clock),
        delete_video=DeleteVideo(p.uow, p.clock),
        restore_video=RestoreVideo(p.uow, p.clock),
        issue_playback=IssuePlayback(p.uow, p.signer, p.clock, policy.playback_ttl),
        redeem_playback=RedeemPlayback(p.signer, p.clock, sessions),
        open_stream=OpenStream(p.uow, p.storage, credits, p.cache),
        read_playlist=ReadPlaylist(p.uow, p.storage, p.signer, p.clock, p.cache, p.heads),
        open_hls_file=OpenHlsFile(p.uow, p.storage, credits, p.cache, p.heads),
        get_thumbnail=GetThumbnail(p.uow, p.storage),
        sweep_storage=SweepStorage(p.uow, p.storage, p.clock, policy.staging_ttl),
        video_viewers=VideoViewers(p.uow),
        leaderboard=Leaderboard(p.uow),
        background=background,
        create_webhook=CreateEndpoint(p.webhook_uow, p.webhook_sender, p.clock, policy.webhooks_key),
        list_webhooks=ListEndpoints(p.webhook_uow),
        delete_webhook=DeleteEndpoint(p.webhook_uow),
        list_webhook_deliveries=ListDeliveries(p.webhook_uow),
        deliver_webhook=DeliverWebhook(p.webhook_uow, p.webhook_sender, p.clock, policy.webhooks_key),
        sweep_webhooks=SweepWebhooks(p.webhook_uow, p.jobs, p.clock),
        purge_trash=PurgeTrash(p.uow, p.storage, p.clock, policy.trash_retention),
        create_upload=CreateUpload(p.uow, p.writes, p.clock, policy.max_upload_bytes, policy.upload_expiry),
        get_upload=get_upload,
        append_to_upload=AppendToUpload(p.uow, p.storage, p.writes, p.clock, get_upload, uploads),
        terminate_upload=TerminateUpload(p.uow, p.storage, p.writes, p.clock),
        expire_uploads=ExpireUploads(p.uow, p.storage, p.writes, p.clock),
    )
