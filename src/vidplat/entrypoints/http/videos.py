"""Videos: upload, catalog, edit, trash and restore."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, Parameter

from vidplat.domain.errors import InvalidInput
from vidplat.domain.videos.catalog import EditVideoCommand, VideoQuery
from vidplat.domain.videos.model import VideoStatus
from vidplat.domain.videos.upload import ReplaceCommand, UploadCommand
from vidplat.entrypoints.http.openapi_forms import EditOperation, UploadOperation
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Limit, Offset, PageCursor, Uc, next_cursor, page
from vidplat.entrypoints.http.schemas import EditVideoBody, VideoOut, VideoPage
from vidplat.entrypoints.http.security import admin_only
from vidplat.entrypoints.http.text import LINE_PATTERN, invalid_body
from vidplat.entrypoints.http.uploads import read_upload


def _max_upload(request: Request[Any, Any, Any]) -> int:
    max_bytes: int = request.app.state.container.settings.max_upload_bytes
    return max_bytes


class VideoController(Controller):
    path = "/api/v1/videos"
    tags = ["videos"]

    @post(
        "/",
        guards=[admin_only],
        status_code=202,
        request_max_body_size=None,  # enforced while streaming, against the configured limit
        operation_class=UploadOperation,
        responses=problems(401, 403, 413, 415, 422),
        summary="Upload a video; it is processed in the background",
    )
    async def upload(self, request: Request[Any, Any, Any], uc: Uc, principal: Caller) -> VideoOut:
        form = await read_upload(request, _max_upload(request))
        if form.file is None:
            raise InvalidInput("file", "is required")
        if form.title is None:
            raise InvalidInput("title", "is required, before the file in the form")
        cmd = UploadCommand(title=form.title, description=form.description, chunks=form.file.chunks)
        return VideoOut.of(await uc.upload_video(principal, cmd))

    @get("/", responses=problems(401, 422), summary="Videos of the organization, newest first")
    async def list_videos(
        self,
        uc: Uc,
        principal: Caller,
        limit: Limit = 20,
        offset: Offset = 0,
        status: Annotated[VideoStatus | None, Parameter(description="Admins only")] = None,
        q: Annotated[str | None, Parameter(max_length=250, pattern=LINE_PATTERN, description="Title contains")] = None,
        cursor: PageCursor = None,
    ) -> VideoPage:
        query = VideoQuery(page=page(limit, offset, cursor), status=status, title=q)
        found = await uc.list_videos(principal, query)
        items = [VideoOut.of(v) for v in found.items]
        return VideoPage(items, found.total, found.limit, found.offset, next_cursor(found))

    @get("/deleted", guards=[admin_only], responses=problems(401, 403, 422), summary="Soft-deleted videos")
    async def deleted(
        self, uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0, cursor: PageCursor = None
    ) -> VideoPage:
        found = await uc.list_deleted_videos(principal, page(limit, offset, cursor))
        items = [VideoOut.of(v) for v in found.items]
        return VideoPage(items, found.total, found.limit, found.offset, next_cursor(found))

    @get("/{video_id:uuid}", responses=problems(401, 404), summary="One video")
    async def get_video(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> VideoOut:
        return VideoOut.of(await uc.get_video(principal, video_id))

    @patch(
        "/{video_id:uuid}",
        guards=[admin_only],
        request_max_body_size=None,
        operation_class=EditOperation,
        responses={
            202: ResponseSpec(VideoOut, description="The new file is being processed", generate_examples=False),
            **problems(401, 403, 404, 413, 415, 422),
        },
        summary="Edit metadata (200) or replace the file (202)",
    )
    async def edit(
        self, video_id: FromPath[UUID], request: Request[Any, Any, Any], uc: Uc, principal: Caller
    ) -> Response[VideoOut]:
        if request.headers.get("content-type", "").lower().startswith("multipart/"):
            form = await read_upload(request, _max_upload(request))
            if form.file is not None:
                cmd = ReplaceCommand(title=form.title, description=form.description, chunks=form.file.chunks)
                return Response(VideoOut.of(await uc.replace_video_file(principal, video_id, cmd)), status_code=202)
            edit = EditVideoCommand(title=form.title, description=form.description)
        else:
            body = await _json_body(request)
            edit = EditVideoCommand(title=body.title, description=body.description)
        return Response(VideoOut.of(await uc.edit_video(principal, video_id, edit)), status_code=200)

    @delete(
        "/{video_id:uuid}",
        guards=[admin_only],
        status_code=204,
        responses=problems(401, 403, 404),
        summary="Move a video to the trash",
    )
    async def delete_video(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> None:
        await uc.delete_video(principal, video_id)

    @post(
        "/{video_id:uuid}/restore",
        guards=[admin_only],
        status_code=200,
        responses=problems(401, 403, 404),
        summary="Restore from the trash (plans that allow it)",
    )
    async def restore(self, video_id: FromPath[UUID], uc: Uc, principal: Caller) -> VideoOut:
        return VideoOut.of(await uc.restore_video(principal, video_id))


MAX_JSON_BYTES = 64 * 1024


async def _json_body(request: Request[Any, Any, Any]) -> EditVideoBody:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            raise InvalidInput("body", f"must be at most {MAX_JSON_BYTES} bytes")
    try:
        return msgspec.json.decode(bytes(raw) or b"{}", type=EditVideoBody)
    except msgspec.ValidationError as exc:
        raise invalid_body(exc) from None
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # msgspec raises all three for bad JSON
        raise InvalidInput("body", "is not valid JSON") from None
