"""Watching by HLS: master and variant playlists, init and media segments, the storyboard track and sprite."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Controller, Request, Response, get, route
from litestar.enums import HttpMethod
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter

from vidplat.domain.accounts.model import Principal
from vidplat.domain.use_cases import UseCases
from vidplat.domain.videos.delivery import HlsFile, HlsFileKind
from vidplat.entrypoints.http.openapi_problems import bare, problems
from vidplat.entrypoints.http.params import Caller, Uc
from vidplat.entrypoints.http.security import PLAYBACK, presented_pass
from vidplat.entrypoints.http.streaming import PlaybackToken, fresh_on_replacement, serve_file

MPEGURL = "application/vnd.apple.mpegurl"
VTT = "text/vtt"
# A playlist carries the caller's token: no cache may keep it, not even the browser's.
NOT_STORED = {"Cache-Control": "private, no-store"}
_AUTH = (
    "Authenticate with a bearer token, or with `token` (the `hls_url`'s, or the one a playlist "
    "wrote into its URIs), so players that send no headers work."
)
_FILE_ANSWERS: dict[int, ResponseSpec] = {
    206: ResponseSpec(bytes, description="The requested byte range", media_type="video/*", generate_examples=False),
    307: bare("Redirect delivery: a short-lived presigned URL of the object, which serves the Range"),
    304: bare("Not modified (If-None-Match, If-Modified-Since)"),
    **problems(401, 404, 412, 416, 422),
}
Rendition = Annotated[str, Parameter(description="A rendition's name, as the master playlist lists it: `720p`")]
FileName = Annotated[
    str, Parameter(description="`index.m3u8` (the variant playlist), `init.mp4` or a media segment `seg_NNNNN.m4s`")
]


class HlsController(Controller):
    path = "/api/v1/videos/{video_id:uuid}"
    tags = ["videos"]

    @get(
        "/hls/master.m3u8",
        opt={PLAYBACK: True},
        media_type=MPEGURL,
        responses=problems(401, 404, 422),
        summary="The HLS master playlist: one variant per rendition",
        description=_AUTH,
    )
    async def master(
        self,
        video_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        uc: Uc,
        principal: Caller,
        token: PlaybackToken = None,
    ) -> Response[str]:
        return await _playlist(request, uc, principal, video_id, HlsFile.of(HlsFileKind.MASTER))

    @route(
        "/hls/{rendition:str}/{name:str}",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt={PLAYBACK: True},
        media_type="video/*",
        responses=_FILE_ANSWERS,
        summary="A rendition's variant playlist, init segment or media segment; a media segment credits the view",
        description=_AUTH,
    )
    async def rendition_file(
        self,
        video_id: FromPath[UUID],
        rendition: FromPath[Rendition],
        name: FromPath[FileName],
        request: Request[Any, Any, Any],
        uc: Uc,
        principal: Caller,
        token: PlaybackToken = None,
    ) -> Response[Any]:
        file = HlsFile.in_rendition(rendition, name)
        if file.kind.is_playlist:
            return await _playlist(request, uc, principal, video_id, file)
        return await serve_file(request, lambda fresh: uc.open_hls_file(principal, video_id, file, fresh=fresh))

    @get(
        "/storyboard.vtt",
        opt={PLAYBACK: True},
        media_type=VTT,
        responses=problems(401, 404, 422),
        summary="The WebVTT thumbnail track for scrubbing previews",
        description=_AUTH,
    )
    async def storyboard_track(
        self,
        video_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        uc: Uc,
        principal: Caller,
        token: PlaybackToken = None,
    ) -> Response[str]:
        return await _playlist(request, uc, principal, video_id, HlsFile.of(HlsFileKind.TRACK))

    @route(
        "/storyboard.jpg",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        opt={PLAYBACK: True},
        media_type="image/jpeg",
        responses=_FILE_ANSWERS,
        summary="The storyboard sprite the track's `#xywh=` cues point into",
        description=_AUTH,
    )
    async def storyboard_sprite(
        self,
        video_id: FromPath[UUID],
        request: Request[Any, Any, Any],
        uc: Uc,
        principal: Caller,
        token: PlaybackToken = None,
    ) -> Response[Any]:
        sprite = HlsFile.of(HlsFileKind.SPRITE)
        return await serve_file(request, lambda fresh: uc.open_hls_file(principal, video_id, sprite, fresh=fresh))


async def _playlist(
    request: Request[Any, Any, Any], uc: UseCases, principal: Principal, video_id: UUID, file: HlsFile
) -> Response[str]:
    presented = presented_pass(request)

    async def read(fresh: bool) -> str:
        return await uc.read_playlist(principal, video_id, file, presented, fresh=fresh)

    return Response(await fresh_on_replacement(read), media_type=file.content_type, headers=NOT_STORED)
