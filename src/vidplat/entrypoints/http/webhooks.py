"""Webhook endpoints of the caller's organization (admin), and each one's delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, post
from litestar.params import FromPath, JSONBody
from msgspec import Meta, Struct

from vidplat.domain.webhooks.endpoints import MAX_URL, CreateEndpointCommand
from vidplat.domain.webhooks.model import Delivery, DeliveryStatus, Endpoint
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Limit, Offset, PageCursor, Uc, next_cursor, page
from vidplat.entrypoints.http.security import admin_only
from vidplat.entrypoints.http.text import Line

EventName = Annotated[str, Line, Meta(max_length=40, examples=["video.ready"])]


class CreateWebhookBody(Struct, forbid_unknown_fields=True):
    url: Annotated[str, Line, Meta(max_length=MAX_URL, examples=["https://hooks.example.com/vidplat"])]
    events: Annotated[list[EventName], Meta(max_length=10)] | None = None


class WebhookOut(Struct):
    id: UUID
    url: str
    events: list[str]
    created_at: datetime

    @classmethod
    def of(cls, e: Endpoint) -> WebhookOut:
        return cls(e.id, e.url, sorted(t.value for t in e.events), e.created_at)


class CreatedWebhookOut(WebhookOut):
    secret: str  # shown only in this response


class WebhookPage(Struct):
    items: list[WebhookOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None


class DeliveryOut(Struct):
    id: UUID
    event_id: UUID
    type: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            d.id, d.event_id, d.type.value, d.status, d.attempts, d.last_status_code, d.created_at, d.delivered_at
        )


class DeliveryPage(Struct):
    items: list[DeliveryOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]
    guards = [admin_only]

    @post("/", responses=problems(401, 403, 422), summary="Add an endpoint; its signing secret is shown only here")
    async def create(self, data: JSONBody[CreateWebhookBody], uc: Uc, principal: Caller) -> CreatedWebhookOut:
        created = await uc.create_webhook(principal, CreateEndpointCommand(url=data.url, events=data.events))
        e = created.endpoint
        return CreatedWebhookOut(e.id, e.url, sorted(t.value for t in e.events), e.created_at, created.secret)

    @get("/", responses=problems(401, 403, 422), summary="The organization's endpoints (no secrets)")
    async def list_webhooks(
        self, uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0, cursor: PageCursor = None
    ) -> WebhookPage:
        found = await uc.list_webhooks(principal, page(limit, offset, cursor))
        items = [WebhookOut.of(e) for e in found.items]
        return WebhookPage(items, found.total, found.limit, found.offset, next_cursor(found))

    @delete("/{webhook_id:uuid}", status_code=204, responses=problems(401, 403, 404), summary="Remove an endpoint")
    async def delete_webhook(self, webhook_id: FromPath[UUID], uc: Uc, principal: Caller) -> None:
        await uc.delete_webhook(principal, webhook_id)

    @get("/{webhook_id:uuid}/deliveries", responses=problems(401, 403, 404, 422), summary="Delivery log, newest first")
    async def deliveries(
        self,
        webhook_id: FromPath[UUID],
        uc: Uc,
        principal: Caller,
        limit: Limit = 20,
        offset: Offset = 0,
        cursor: PageCursor = None,
    ) -> DeliveryPage:
        found = await uc.list_webhook_deliveries(principal, webhook_id, page(limit, offset, cursor))
        items = [DeliveryOut.of(d) for d in found.items]
        return DeliveryPage(items, found.total, found.limit, found.offset, next_cursor(found))
