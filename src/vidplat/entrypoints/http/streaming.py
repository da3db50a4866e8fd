"""Watching: byte-range streaming, signed playback URLs and thumbnails."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter
from litestar.response import Stream

from vidplat.domain.videos.playback import Playable
from vidplat.entrypoints.http.openapi_problems import bare, problems
from vidplat.entrypoints.http.params import Caller, Uc
from vidplat.entrypoints.http.problems import problem
from vidplat.entrypoints.http.ranges import Plan, plan_response
from vidplat.entrypoints.http.schemas import PlaybackOut
from vidplat.entrypoints.http.security import PLAYBACK

T = TypeVar("T")
# Any video container the upload accepted (MP4, QuickTime, WebM, Matroska): the stored type is sent.
VIDEO = "video/*"
_REFUSALS: dict[int, tuple[str, str]] = {
    HTTPStatus.PRECONDITION_FAILED: ("precondition_failed", "A precondition (If-Match, If-Unmodified-Since) failed."),
    HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE: (
        "range_not_satisfiable",
        "The range is outside the video; Content-Range gives its size.",
    ),
}
PlaybackToken = Annotated[str | None, Parameter(description="Signed playback token", max_length=512)]
# Media is per user (credits, tenancy): shared caches must not keep it.
PRIVATE = {"Cache-Control": "private, max-age=0, must-revalidate"}
# How long a presigned object URL of the redirect delivery serves: long enough for the player to
# follow it; each new range request comes back through /stream (authorised and credited again).
REDIRECT_TTL = timedelta(minutes=5)


class StreamingController(Controller):
    path = "/api/v1/videos/{video_id:uuid}"
    tags = ["videos"]

    @route(
        "/stream",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt={PLAYBACK: True},
        media_type=VIDEO,
        responses={
            206: ResponseSpec(bytes, description="The requested byte range", media_type=VIDEO, generate_examples=False),
            307: bare("Redirect delivery: a short-lived presigned URL of the object, which serves the Range"),
            304: bare("Not modified (If-None-Match, If-Modified-Since)"),
            **problems(401, 404, 412, 416, 422),
        },
        summary="The video bytes, with HTTP Range support; credits view points",
        description="Authenticate with a bearer token, or with `token` from POST /playback (for `<video src>`).",
    )
    async def stream(
        self,
        video_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        uc: Uc,
        principal: Caller,
        token: PlaybackToken = None,
    ) -> Response[Any]:
        return await serve_file(request, lambda fresh: uc.open_stream(principal, video_id, fresh=fresh))

    @post(
        "/playback",
        status_code=200,
        responses=problems(401, 404),
        summary="Signed URLs (progressive, HLS, thumbnail) for players that cannot send headers",
    )
    async def playback(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> PlaybackOut:
        grant = await uc.issue_playback(principal, video_id)
        base = f"/api/v1/videos/{video_id}"
        return PlaybackOut(
            url=f"{base}/stream?token={grant.view_token}",
            hls_url=f"{base}/hls/master.m3u8?token={grant.start_token}",
            thumbnail_url=f"{base}/thumbnail?token={grant.start_token}",
            expires_at=grant.expires_at,
        )

    @get(
        "/thumbnail",
        opt={PLAYBACK: True},
        media_type="image/jpeg",
        responses=problems(401, 404),
        summary="The JPEG thumbnail, once processed",
        description="Authenticate with a bearer token, or with `token` from POST /playback (for `<img src>`).",
    )
    async def thumbnail(
        self, video_id: FromPath[UUID], uc: Uc, principal: Caller, token: PlaybackToken = None
    ) -> Response[bytes]:
        return Response(await uc.get_thumbnail(principal, video_id), media_type="image/jpeg", headers=PRIVATE)


async def serve_file(
    request: Request[Any, Any, Any], open_file: Callable[[bool], Awaitable[Playable]]
) -> Response[Any]:
    """A stored file with validators and byte ranges (proxied, offloaded to nginx or redirected to the store).

    `open_file(fresh)` authorises and describes it; `fresh` reads the row, not a cached copy.
    """

    async def answer(fresh: bool) -> Response[Any]:
        return await _respond(request, await open_file(fresh))

    return await fresh_on_replacement(answer)


async def fresh_on_replacement(answer: Callable[[bool], Awaitable[T]]) -> T:
    """answer(fresh=False), or answer(fresh=True) when the file it named was gone.

    A replacement was published (deleting this file) between reading the row and opening the
    file: the row now names the new file, so answer from it. Read the row itself: this process
    may not have heard of the change yet.
    """
    try:
        return await answer(False)
    except FileNotFoundError:
        return await answer(True)


async def _respond(request: Request[Any, Any, Any], playable: Playable) -> Response[Any]:
    plan = plan_response(
        method=request.method,
        headers=request.headers,
        size=playable.size,
        etag=playable.etag,
        last_modified=playable.last_modified,
    )
    headers = {**plan.headers, **PRIVATE}
    if plan.status in _REFUSALS:
        # Problem details like any other refusal, keeping the validators and 416's `Content-Range: bytes */size`.
        code, detail = _REFUSALS[plan.status]
        return problem(plan.status, code, detail, headers=headers)
    if plan.status != HTTPStatus.NOT_MODIFIED:
        # The stored type, explicitly: the route's documented `video/*` would otherwise replace it.
        headers["Content-Type"] = playable.content_type
    settings = request.app.state.container.settings
    if (
        settings.storage.stream_delivery == "redirect"
        and plan.status in (200, 206)
        and request.method == HttpMethod.GET
    ):
        url = await playable.presign(REDIRECT_TTL)
        if url is not None:  # the store serves the bytes and the Range itself
            return Response(b"", status_code=HTTPStatus.TEMPORARY_REDIRECT, headers={"Location": url, **PRIVATE})
    # nginx reads the file from its own disk: only local storage can be offloaded this way.
    offload: str | None = None if settings.storage.is_s3 else settings.accel_redirect_prefix
    if offload is not None and request.method == HttpMethod.GET and _nginx_answers_alike(request.headers, plan):
        # nginx serves the bytes (sendfile, and the Range itself) from its internal location,
        # keeping this response's Content-Type and Cache-Control, and sending these validators
        # (deploy/nginx.conf adds them back: X-Accel-Redirect drops them); authorisation and
        # crediting are done.
        return Response(
            b"",
            headers={
                "X-Accel-Redirect": offload + quote(playable.storage_key),
                "Content-Type": playable.content_type,
                "ETag": plan.headers["ETag"],
                "Last-Modified": plan.headers["Last-Modified"],
                # nginx sends its own on a 200, none on a 206, but keeps this one.
                **({"Accept-Ranges": "bytes"} if plan.status == HTTPStatus.PARTIAL_CONTENT else {}),
                **PRIVATE,
            },
            media_type=playable.content_type,
        )
    if plan.status in (200, 206) and request.method == HttpMethod.GET:
        span = plan.range
        start, length = (0, playable.size) if span is None else (span.start, span.length)
        chunks = playable.read(start, length)
        # Read before any header is sent: an open file keeps its bytes when a replacement deletes
        # it; opened lazily, after the 200 and its Content-Length, the response could break off.
        first = await anext(chunks, b"")
        if len(first) >= length:
            # The whole range in one read, as most player requests are: no streaming machinery needed.
            await chunks.aclose()
            return Response(first, status_code=plan.status, headers=headers, media_type=playable.content_type)
        body = _resumed(first, chunks)
    else:
        body = _empty()
    return Stream(body, status_code=plan.status, headers=headers, media_type=playable.content_type)


def _nginx_answers_alike(headers: Mapping[str, str], plan: Plan) -> bool:
    """Whether nginx, handed this request, answers exactly as vidplat would: a plain 200, or the one range applied.

    nginx judges preconditions with the file's own mtime and no ETag, an If-Range date with its own
    parser, and a Range vidplat ignored (malformed, several, failed If-Range) by its own rules. Those
    requests are rare for a player, so vidplat answers them itself, as it does without nginx.
    """
    if any(name in headers for name in _JUDGED_BY_NGINX):
        return False
    if "range" not in headers:
        return plan.status == HTTPStatus.OK
    if_range = headers.get("if-range")
    # An entity tag nginx compares byte for byte with the ETag it sends, which is vidplat's.
    return plan.status == HTTPStatus.PARTIAL_CONTENT and (if_range is None or if_range.strip().endswith('"'))


_JUDGED_BY_NGINX = ("if-match", "if-none-match", "if-modified-since", "if-unmodified-since")


async def _resumed(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _empty() -> AsyncIterator[bytes]:
    return
    yield
