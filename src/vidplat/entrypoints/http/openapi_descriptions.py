"""What each operation does, for the OpenAPI document: the contract (API.md) in the reader's words.

Kept apart from the controllers so that they stay short; `describe` fills in an operation's
description unless its handler sets one itself.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.routes import HTTPRoute

_PAGE = " Paginated: `limit` (1..100, default 20) and `offset`."
DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("GET", "/health"): "200 while the process is up; checks nothing else (use /ready for the backends).",
    ("GET", "/ready"): "200 when the database, the lock backend and the job queue answer; 503 naming the parts down.",
    ("POST", "/api/v1/organizations"): (
        "Creates the organization, its first admin and a TRIAL subscription in one transaction. The "
        "response's `slug` (derived from the name) is what you log in with. Names are unique, "
        "case-insensitively. Answers 403 `signup_closed` when the server runs with VIDPLAT_SIGNUP=closed."
    ),
    ("GET", "/api/v1/organizations/me"): (
        "The caller's organization with its current subscription and effective plan, and its `usage` "
        "(storage bytes, trash included, and active users) against the plan's limits."
    ),
    ("GET", "/api/v1/plans"): "The plans an organization can be on: TRIAL (free, no end) and PAID (15 days, restores).",
    ("POST", "/api/v1/organizations/me/subscription"): (
        "Ends the current subscription and starts one on the plan (payment is assumed done), in one "
        "transaction. Subscribing again to the active paid plan extends it from its current end. Admins only."
    ),
    ("GET", "/api/v1/organizations/me/subscriptions"): "The organization's subscriptions, newest first. Admins only."
    + _PAGE,
    ("POST", "/api/v1/auth/login"): (
        "Exchanges the organization (slug or id), email and password for an access token (a short-lived JWT, "
        "for `Authorization: Bearer`) and a refresh token. Any wrong part answers the same 401 "
        "`invalid_credentials`; repeated failures answer 429 `too_many_attempts` with Retry-After."
    ),
    ("POST", "/api/v1/auth/refresh"): (
        "A new token pair for a refresh token, which is spent (rotation). Presenting a spent one again "
        "revokes the whole session: 401 `refresh_token_reused`."
    ),
    ("POST", "/api/v1/auth/logout"): "Revokes the current session: its access and refresh tokens stop working at once.",
    ("GET", "/api/v1/users/me"): "The authenticated user, with the view points earned so far.",
    ("PUT", "/api/v1/users/me/password"): (
        "Changes the caller's password (8 to 128 characters) after checking the current one (400 "
        "`wrong_password`); every other session of the user is revoked."
    ),
    ("DELETE", "/api/v1/users/me"): (
        "Deactivates the caller's account (data is kept); its tokens stop working. 409 `last_admin` if the "
        "caller is the organization's only active admin."
    ),
    ("GET", "/api/v1/users/me/points"): "The caller's view points: the total and one entry per video credited." + _PAGE,
    ("POST", "/api/v1/users"): (
        "Adds a user (role `member` unless given) to the admin's organization. Without `password`, one of "
        "at least 16 characters is generated and returned once as `initial_password`. Emails are unique per "
        "organization, case-insensitively (409 `email_taken`). 403 `quota_exceeded` past the plan's `max_users`."
    ),
    ("GET", "/api/v1/users"): "The organization's active users; filter with `role` and `q` (email contains)." + _PAGE,
    ("GET", "/api/v1/users/{user_id}"): "One user of the admin's organization; another organization's is a 404.",
    ("PATCH", "/api/v1/users/{user_id}"): (
        "Resets a user's password or changes their role. Demoting the last active admin: 409 `last_admin`."
    ),
    ("DELETE", "/api/v1/users/{user_id}"): (
        "Deactivates the user (data kept): they cannot log in and their tokens stop working. Deleting the "
        "last active admin: 409 `last_admin`."
    ),
    ("POST", "/api/v1/videos"): (
        "Multipart upload: `title`, `description`, then `file`, in that order. Answers 202 with the video "
        "`processing`; a background job probes it and makes its thumbnail, then marks it `ready` or `failed`. "
        "413 `file_too_large` over the limit (nothing kept), 415 `unsupported_media` for bytes that are not video, "
        "403 `quota_exceeded` past the plan's storage (nothing kept)."
    ),
    ("GET", "/api/v1/videos"): (
        "The organization's videos, newest first. Members see `ready` ones only; admins see every status "
        "(filter with `status`). `q` searches titles." + _PAGE
    ),
    ("GET", "/api/v1/videos/deleted"): "The organization's soft-deleted videos (the trash), newest first. Admins only."
    + _PAGE,
    ("GET", "/api/v1/videos/{video_id}"): "One video; members see only `ready` ones, another organization's is a 404.",
    ("PATCH", "/api/v1/videos/{video_id}"): (
        "Edits the title or description (JSON or multipart: 200, at once). With a `file` (multipart): 202, "
        "and the new file replaces the old one only once processed; the old one keeps streaming until then."
    ),
    (
        "DELETE",
        "/api/v1/videos/{video_id}",
    ): "Moves the video to the trash (soft delete); a plan that allows it can restore it.",
    ("POST", "/api/v1/videos/{video_id}/restore"): (
        "Brings a deleted video back. 403 `plan_required` when the effective plan cannot restore; 404 "
        "`video_not_deleted` for a video that is not in the trash."
    ),
    ("POST", "/api/v1/videos/{video_id}/playback"): (
        "Signed URLs bound to the caller, their session and this video, for players that cannot send an "
        "Authorization header: `hls_url` (the HLS master playlist, for hls.js or Safari) and `thumbnail_url` "
        "(for `<img src>`) start a view until `expires_at` (VIDPLAT_PLAYBACK_URL_TTL_SECONDS); the playlists "
        "then carry a token lasting the video's duration plus 30 minutes, so pausing or seeking never breaks "
        "the view. `url` is the progressive file (`<video src>`), valid until `expires_at` plus the duration "
        "plus 30 minutes. Every token dies with the session (logout, password change, user deleted)."
    ),
    ("GET", "/api/v1/videos/{video_id}/thumbnail"): (
        "The JPEG thumbnail once the video is processed: 404 before, and 404 `video_failed` when processing failed."
    ),
}


def describe(app: Litestar) -> None:
    """Give every documented operation without a description of its own the one above."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if handler.description:
                continue
            found = [DESCRIPTIONS.get((method, route.path_format)) for method in sorted(handler.http_methods)]
            handler.description = next((text for text in found if text), None)
