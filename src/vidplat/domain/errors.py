"""Domain errors: each carries a stable machine `code` and a default human message.

The base classes say what kind of failure it is; the HTTP layer maps kinds to status
codes in one place, so the core never knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


class DomainError(Exception):
    code: ClassVar[str] = "error"
    message: ClassVar[str] = "The request could not be completed."

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail or self.message
        super().__init__(self.detail)


# --- kinds -----------------------------------------------------------------------------


class NotFound(DomainError):
    code = "not_found"
    message = "The requested resource does not exist."


class Conflict(DomainError):
    code = "conflict"
    message = "The request conflicts with the current state."


class Forbidden(DomainError):
    code = "forbidden"
    message = "You are not allowed to do this."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    message = "Authentication is required."


class Rejected(DomainError):
    """A well-formed request that the rules refuse (HTTP 400)."""

    code = "bad_request"


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class InvalidInput(DomainError):
    code = "validation_error"
    message = "The request is not valid."

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.errors = (FieldError(field, message),)


class TooManyAttempts(DomainError):
    code = "too_many_attempts"
    message = "Too many failed attempts; try again later."

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__()
        self.retry_after_seconds = retry_after_seconds


class Unavailable(DomainError):
    code = "service_unavailable"
    message = "A backing service is unavailable; try again shortly."


class StorageFull(DomainError):
    code = "storage_full"
    message = "The media store is full; nothing was kept. Try again later."


class PayloadTooLarge(DomainError):
    code = "file_too_large"
    message = "The file is larger than the configured upload limit."


class UnsupportedMedia(DomainError):
    code = "unsupported_media"
    message = "The file is not a supported video container."


# --- accounts --------------------------------------------------------------------------


class OrganizationNotFound(NotFound):
    code = "organization_not_found"
    message = "Organization not found."


class OrganizationNameTaken(Conflict):
    code = "organization_name_taken"
    message = "An organization with this name already exists."


class SlugTaken(OrganizationNameTaken):
    """Another organization took the slug derived from this name; signup picks another."""


class UserNotFound(NotFound):
    code = "user_not_found"
    message = "User not found."


class EmailTaken(Conflict):
    code = "email_taken"
    message = "A user with this email already exists in the organization."


class LastAdmin(Conflict):
    code = "last_admin"
    message = "The organization must keep at least one active admin."


class AdminRequired(Forbidden):
    code = "admin_required"
    message = "This action requires the admin role."


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    message = "The organization, email or password is incorrect."


class InvalidToken(Unauthenticated):
    code = "invalid_token"
    message = "The token is missing, invalid, expired or revoked."


class RefreshTokenReused(Unauthenticated):
    code = "refresh_token_reused"
    message = "This refresh token was already used; the session has been revoked."


class SignupClosed(Forbidden):
    code = "signup_closed"
    message = "Public signup is closed on this server; an operator creates organizations."


class WrongPassword(Rejected):
    code = "wrong_password"
    message = "The current password is incorrect."


# --- billing ---------------------------------------------------------------------------


class PlanNotFound(NotFound):
    code = "plan_not_found"
    message = "Plan not found."


class PlanRequired(Forbidden):
    code = "plan_required"
    message = "The organization's plan does not include this feature."


class QuotaExceeded(Forbidden):
    code = "quota_exceeded"
    message = "The organization's plan does not allow more of this."


class SubscriptionConflict(Conflict):
    code = "subscription_conflict"
    message = "The subscription changed concurrently; retry the request."


# --- videos ----------------------------------------------------------------------------


class VideoNotFound(NotFound):
    code = "video_not_found"
    message = "Video not found."


class VideoNotReady(NotFound):
    code = "video_not_ready"
    message = "The video is not ready yet."


class VideoFailed(NotFound):
    code = "video_failed"
    message = "The video failed processing: it has no thumbnail or stream."


class HlsFileNotFound(NotFound):
    code = "hls_file_not_found"
    message = "The video's HLS has no such file."


class VideoNotDeleted(VideoNotFound):
    """API.md: restoring a video that is not in the trash is a 404, told apart by its code."""

    code = "video_not_deleted"
    message = "The video is not deleted, so there is nothing to restore."


# --- webhooks --------------------------------------------------------------------------


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    message = "Webhook endpoint not found."


class WebhookUrlRefused(InvalidInput):
    """Not http(s), or resolves to an address inside our network (SSRF)."""

    code = "webhook_url_refused"

    def __init__(self, reason: str) -> None:
        super().__init__("url", reason)


class WebhooksNotConfigured(Unavailable):
    code = "webhooks_not_configured"
    message = "Webhooks need VIDPLAT_WEBHOOKS_KEY on this server."


# --- resumable uploads -----------------------------------------------------------------


class UploadNotFound(NotFound):
    code = "upload_not_found"
    message = "Upload not found (it may have expired or been terminated)."


class OffsetMismatch(Conflict):
    code = "offset_mismatch"
    message = "Upload-Offset does not match the bytes stored; ask HEAD for the current offset."
