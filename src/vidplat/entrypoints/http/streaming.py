"""Watching: byte-range streaming, signed playback URLs and thumbnails."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from datetime import timedelta
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from litestar import Controller, Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter
from litestar.response import Stream

from vidplat.domain.accounts.model import Principal
from vidplat.domain.use_cases import UseCases
from vidplat.entrypoints.http.openapi_problems import bare, problems
from vidplat.entrypoints.http.params import Caller, Uc
from vidplat.entrypoints.http.ranges import plan_response
from vidplat.entrypoints.http.schemas import PlaybackOut
from vidplat.entrypoints.http.security import PLAYBACK

# Any video container the upload accepted (MP4, QuickTime, WebM, Matroska): the stored type is sent.
VIDEO = "video/*"
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
            412: bare("A precondition failed (If-Match, If-Unmodified-Since)"),
            416: bare("The range is not satisfiable; Content-Range gives the size"),
            **problems(401, 404, 422),
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
        token: Annotated[str | None, Parameter(description="Signed playback token", max_length=512)] = None,
    ) -> Response[Any]:
        try:
            return await _respond(request, uc, principal, video_id)
        except FileNotFoundError:
            # A replacement was published (deleting this file) between reading the row and opening
            # the file: the row now names the new file, so answer from it. Read the row itself:
            # this process may not have heard of the change yet.
            return await _respond(request, uc, principal, video_id, fresh=True)

    @post(
        "/playback",
        status_code=200,
        responses=problems(401, 404),
        summary="A short-lived signed URL for players that cannot send headers",
    )
    async def playback(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> PlaybackOut:
        grant = await uc.issue_playback(principal, video_id)
        return PlaybackOut(url=f"/api/v1/videos/{video_id}/stream?token={grant.token}", expires_at=grant.expires_at)

    @get(
        "/thumbnail",
        media_type="image/jpeg",
        responses=problems(401, 404),
        summary="The JPEG thumbnail, once processed",
    )
    async def thumbnail(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> Response[bytes]:
        return Response(await uc.get_thumbnail(principal, video_id), media_type="image/jpeg", headers=PRIVATE)


async def _respond(
    request: Request[Any, Any, Any], uc: UseCases, principal: Principal, video_id: UUID, *, fresh: bool = False
) -> Response[Any]:
    playable = await uc.open_stream(principal, video_id, fresh=fresh)
    plan = plan_response(
        method=request.method,
        headers=request.headers,
        size=playable.size,
        etag=playable.etag,
        last_modified=playable.last_modified,
    )
    headers = {**plan.headers, **PRIVATE}
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
    if offload is not None and plan.status in (200, 206) and request.method == HttpMethod.GET:
        # nginx serves the bytes (sendfile, and the Range itself) from its internal location,
        # keeping this response's Content-Type and Cache-Control; authorisation and crediting
        # are done. Conditional requests were answered above with vidplat's own validators.
        return Response(
            b"",
            headers={
                "X-Accel-Redirect": offload + quote(playable.storage_key),
                "Content-Type": playable.content_type,
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
        if plan.status == HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE:
            headers["Content-Length"] = "0"  # a streamed body has no length of its own; this one is empty
    return Stream(body, status_code=plan.status, headers=headers, media_type=playable.content_type)


async def _resumed(first: bytes, rest: AsyncGenerator[bytes, None]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _empty() -> AsyncIterator[bytes]:
    return
    yield
