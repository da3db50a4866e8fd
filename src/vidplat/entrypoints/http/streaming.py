"""Watching: byte-range streaming, signed playback URLs and thumbnails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post, route
from litestar.enums import HttpMethod
from litestar.params import FromPath, Parameter
from litestar.response import Stream

from vidplat.entrypoints.http.params import Caller, Uc
from vidplat.entrypoints.http.ranges import plan_response
from vidplat.entrypoints.http.schemas import PlaybackOut
from vidplat.entrypoints.http.security import PLAYBACK

# Media is per user (credits, tenancy): shared caches must not keep it.
PRIVATE = {"Cache-Control": "private, max-age=0, must-revalidate"}


class StreamingController(Controller):
    path = "/api/v1/videos/{video_id:uuid}"
    tags = ["videos"]

    @route(
        "/stream",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt={PLAYBACK: True},
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
    ) -> Stream:
        playable = await uc.open_stream(principal, video_id)
        plan = plan_response(
            method=request.method,
            headers=request.headers,
            size=playable.size,
            etag=playable.etag,
            last_modified=playable.last_modified,
        )
        headers = {**plan.headers, **PRIVATE}
        if plan.status in (200, 206) and request.method == HttpMethod.GET:
            span = plan.range
            start, length = (0, playable.size) if span is None else (span.start, span.length)
            body: AsyncIterator[bytes] = playable.read(start, length)
        else:
            body = _empty()
        return Stream(body, status_code=plan.status, headers=headers, media_type=playable.content_type)

    @post("/playback", status_code=200, summary="A short-lived signed URL for players that cannot send headers")
    async def playback(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> PlaybackOut:
        grant = await uc.issue_playback(principal, video_id)
        return PlaybackOut(url=f"/api/v1/videos/{video_id}/stream?token={grant.token}", expires_at=grant.expires_at)

    @get("/thumbnail", media_type="image/jpeg", summary="The JPEG thumbnail, once processed")
    async def thumbnail(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> Response[bytes]:
        return Response(await uc.get_thumbnail(principal, video_id), media_type="image/jpeg", headers=PRIVATE)


async def _empty() -> AsyncIterator[bytes]:
    return
    yield
