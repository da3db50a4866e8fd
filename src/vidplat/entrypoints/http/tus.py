"""Resumable uploads, tus 1.0.0: core, creation, creation-with-upload, termination, expiration."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, head, patch, post, route
from litestar.enums import HttpMethod
from litestar.params import FromPath

from vidplat.domain.errors import InvalidInput
from vidplat.domain.uploads.model import ResumableUpload
from vidplat.domain.uploads.use_cases import NewUpload
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.openapi_tus import TusBytesOperation, TusCreationOperation, TusOperation
from vidplat.entrypoints.http.params import Caller, Uc
from vidplat.entrypoints.http.security import NO_TOKEN, PUBLIC, admin_only
from vidplat.entrypoints.http.text import checked
from vidplat.entrypoints.http.tus_headers import (
    TUS_EXTENSIONS,
    TUS_VERSION,
    UPLOADS_PATH,
    TusRefusal,
    http_date,
    is_offset_stream,
    metadata,
    number_header,
    refused,
    require_offset_stream,
    require_tus,
)


class UploadOut(msgspec.Struct):
    id: UUID
    offset: int
    length: int
    expires_at: datetime
    video_id: UUID | None

    @classmethod
    def of(cls, upload: ResumableUpload) -> UploadOut:
        return cls(upload.id, upload.offset, upload.length, upload.expires_at, upload.video_id)


def _max_size(request: Request[Any, Any, Any]) -> int:
    max_bytes: int = request.app.state.container.settings.max_upload_bytes
    return max_bytes


def _progress(upload: ResumableUpload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset), "Upload-Expires": http_date(upload.expires_at)}
    if upload.video_id is not None:
        headers["Video-Id"] = str(upload.video_id)
    return headers


def _new_upload(request: Request[Any, Any, Any]) -> NewUpload:
    fields = metadata(request.headers.get("upload-metadata"))
    title = checked(fields.get("title"), "title")
    if title is None:
        raise InvalidInput("Upload-Metadata", "needs a `title`")
    replace = fields.get("video_id")
    try:
        replace_id = None if replace is None else UUID(replace)
    except ValueError:
        raise InvalidInput("video_id", "is not a video id") from None
    return NewUpload(
        length=number_header(request, "Upload-Length"),
        title=title,
        description=checked(fields.get("description"), "description", multiline=True),
        filename=checked(fields.get("filename"), "filename"),
        replace_video_id=replace_id,
    )


class TusController(Controller):
    path = UPLOADS_PATH
    tags = ["uploads"]
    exception_handlers = {TusRefusal: refused}

    @route(
        "/",
        http_method=[HttpMethod.OPTIONS],
        status_code=204,
        opt={PUBLIC: True},
        security=NO_TOKEN,
        operation_class=TusOperation,
        summary="What this tus server supports",
    )
    async def capabilities(self, request: Request[Any, Any, Any]) -> Response[None]:
        headers = {
            "Tus-Version": TUS_VERSION,
            "Tus-Extension": TUS_EXTENSIONS,
            "Tus-Max-Size": str(_max_size(request)),
        }
        return Response(None, status_code=204, headers=headers)

    @post(
        "/",
        guards=[admin_only],
        status_code=201,
        request_max_body_size=None,  # creation-with-upload: bounded by Upload-Length while streaming
        operation_class=TusCreationOperation,
        responses=problems(401, 403, 404, 409, 412, 413, 415, 422),
        summary="Create an upload (its first bytes may come along)",
    )
    async def create(self, request: Request[Any, Any, Any], uc: Uc, principal: Caller) -> Response[None]:
        require_tus(request)
        upload = await uc.create_upload(principal, _new_upload(request))
        headers = {"Location": f"{UPLOADS_PATH}/{upload.id}"}
        if is_offset_stream(request):
            upload = await uc.append_to_upload(principal, upload.id, 0, request.stream())
        return Response(None, status_code=201, headers=headers | _progress(upload))

    @head(
        "/{upload_id:uuid}",
        guards=[admin_only],
        responses=problems(401, 403, 404, 412),
        operation_class=TusOperation,
        summary="How many bytes of the upload are stored",
    )
    async def offset(
        self, upload_id: FromPath[UUID], request: Request[Any, Any, Any], uc: Uc, principal: Caller
    ) -> Response[None]:
        require_tus(request)
        upload = await uc.get_upload(principal, upload_id)
        headers = {"Upload-Length": str(upload.length), "Cache-Control": "no-store"} | _progress(upload)
        return Response(None, status_code=200, headers=headers)

    @patch(
        "/{upload_id:uuid}",
        guards=[admin_only],
        status_code=204,
        request_max_body_size=None,  # bounded by Upload-Length while streaming
        operation_class=TusBytesOperation,
        responses=problems(401, 403, 404, 409, 412, 413, 415, 422),
        summary="Append bytes at Upload-Offset; the last ones complete the upload (Video-Id)",
    )
    async def append(
        self, upload_id: FromPath[UUID], request: Request[Any, Any, Any], uc: Uc, principal: Caller
    ) -> Response[None]:
        require_tus(request)
        require_offset_stream(request)
        offset = number_header(request, "Upload-Offset")
        upload = await uc.append_to_upload(principal, upload_id, offset, request.stream())
        return Response(None, status_code=204, headers=_progress(upload))

    @get("/{upload_id:uuid}", guards=[admin_only], responses=problems(401, 403, 404), summary="One upload")
    async def get_upload(self, upload_id: FromPath[UUID], uc: Uc, principal: Caller) -> UploadOut:
        return UploadOut.of(await uc.get_upload(principal, upload_id))

    @delete(
        "/{upload_id:uuid}",
        guards=[admin_only],
        status_code=204,
        responses=problems(401, 403, 404, 412),
        summary="Terminate the upload; its bytes are removed",
    )
    async def terminate(
        self, upload_id: FromPath[UUID], request: Request[Any, Any, Any], uc: Uc, principal: Caller
    ) -> None:
        require_tus(request)
        await uc.terminate_upload(principal, upload_id)
