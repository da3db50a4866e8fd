"""Webhook endpoints, the event outbox and the delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import msgspec
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vidplat.adapters.sql.queries import Key, Rows
from vidplat.adapters.sql.rows import WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.webhooks.model import Attempt, Delivery, DeliveryStatus, Endpoint, EventType, WebhookEvent

# What a commit hands to the job queue: (delivery id, attempts made).
Recorded = list[tuple[UUID, int]]


def _endpoint(row: WebhookEndpointRow) -> Endpoint:
    return Endpoint(
        id=row.id,
        organization_id=row.organization_id,
        url=row.url,
        events=frozenset(EventType(e) for e in row.events.split()),
        secret_salt=row.secret_salt,
        created_at=row.created_at,
    )


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        type=EventType(row.type),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        last_status_code=row.last_status_code,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        next_attempt_at=row.next_attempt_at,
    )


def encode_body(event: WebhookEvent) -> bytes:
    """The JSON every delivery of the event sends and signs, encoded once as the API encodes its bodies."""
    return msgspec.json.encode({"type": event.type.value, "timestamp": event.occurred_at, "data": event.data})


class SqlWebhookOutbox:
    def __init__(self, session: AsyncSession, recorded: Recorded) -> None:
        self._session = session
        self._recorded = recorded

    async def record(self, *events: WebhookEvent) -> None:
        if not events:
            return
        # Key-share locked: an endpoint being deleted waits for this transaction, so a delivery
        # never points at an endpoint that is gone (and a deleted one gets none). One read for all
        # the events: the expiry records a few hundred per transaction.
        endpoints = (
            await self._session.scalars(
                select(WebhookEndpointRow)
                .where(WebhookEndpointRow.organization_id.in_({e.organization_id for e in events}))
                .with_for_update(key_share=True)
            )
        ).all()
        wanted = {event.id: [row.id for row in endpoints if _wants(row, event)] for event in events}
        kept = [event for event in events if wanted[event.id]]
        if not kept:
            return
        self._session.add_all(
            WebhookEventRow(
                id=event.id,
                organization_id=event.organization_id,
                type=event.type.value,
                body=encode_body(event),
                created_at=event.occurred_at,
            )
            for event in kept
        )
        await self._session.flush()
        deliveries = [
            WebhookDeliveryRow(
                id=new_id(),
                endpoint_id=endpoint_id,
                event_id=event.id,
                type=event.type.value,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                created_at=event.occurred_at,
                next_attempt_at=event.occurred_at,
            )
            for event in kept
            for endpoint_id in wanted[event.id]
        ]
        self._session.add_all(deliveries)
        await self._session.flush()
        self._recorded.extend((d.id, 0) for d in deliveries)


def _wants(endpoint: WebhookEndpointRow, event: WebhookEvent) -> bool:
    return endpoint.organization_id == event.organization_id and event.type.value in endpoint.events.split()


class SqlWebhookRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._endpoints = Rows(WebhookEndpointRow, session)
        self._deliveries = Rows(WebhookDeliveryRow, session)

    async def add(self, endpoint: Endpoint) -> None:
        await self._endpoints.add(
            WebhookEndpointRow(
                id=endpoint.id,
                organization_id=endpoint.organization_id,
                url=endpoint.url,
                events=" ".join(sorted(e.value for e in endpoint.events)),
                secret_salt=endpoint.secret_salt,
                created_at=endpoint.created_at,
            )
        )

    async def list(self, organization_id: UUID, page: PageRequest) -> Page[Endpoint]:
        return await self._endpoints.page(
            page,
            _endpoint,
            WebhookEndpointRow.organization_id == organization_id,
            key=Key((WebhookEndpointRow.created_at,), WebhookEndpointRow.id),
            newest_first=True,
        )

    async def delete(self, organization_id: UUID, endpoint_id: UUID) -> bool:
        # Locked first: an event being recorded for it commits its deliveries before they are removed.
        found = await self._session.scalar(
            select(WebhookEndpointRow.id)
            .where(WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.organization_id == organization_id)
            .with_for_update()
        )
        if found is None:
            return False
        await self._session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == endpoint_id))
        await self._session.execute(delete(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id))
        return True

    async def deliveries(self, organization_id: UUID, endpoint_id: UUID, page: PageRequest) -> Page[Delivery] | None:
        owned = await self._session.scalar(
            select(WebhookEndpointRow.id).where(
                WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.organization_id == organization_id
            )
        )
        if owned is None:
            return None
        return await self._deliveries.page(
            page,
            _delivery,
            WebhookDeliveryRow.endpoint_id == endpoint_id,
            key=Key((WebhookDeliveryRow.created_at,), WebhookDeliveryRow.id),
            newest_first=True,
        )

    async def due(self, now: datetime, limit: int) -> Sequence[Delivery]:
        rows = await self._session.scalars(
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.status == DeliveryStatus.PENDING.value, WebhookDeliveryRow.next_attempt_at <= now)
            .order_by(WebhookDeliveryRow.next_attempt_at.asc(), WebhookDeliveryRow.id.asc())
            .limit(limit)
        )
        return [_delivery(row) for row in rows]

    async def claim(self, delivery_id: UUID, now: datetime, until: datetime) -> Attempt | None:
        # One conditional UPDATE: of two workers claiming the same delivery, one gets no row.
        claimed = (
            await self._session.execute(
                update(WebhookDeliveryRow)
                .where(
                    WebhookDeliveryRow.id == delivery_id,
                    WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                    WebhookDeliveryRow.next_attempt_at <= now,
                )
                .values(attempts=WebhookDeliveryRow.attempts + 1, next_attempt_at=until)
                .returning(WebhookDeliveryRow.attempts)
            )
        ).scalar_one_or_none()
        if claimed is None:
            return None
        found = (
            await self._session.execute(
                select(WebhookDeliveryRow, WebhookEndpointRow, WebhookEventRow.body)
                .join(WebhookEndpointRow, WebhookEndpointRow.id == WebhookDeliveryRow.endpoint_id)
                .join(WebhookEventRow, WebhookEventRow.id == WebhookDeliveryRow.event_id)
                .where(WebhookDeliveryRow.id == delivery_id)
            )
        ).one()
        delivery, endpoint, body = found
        return Attempt(
            delivery_id=delivery.id,
            event_id=delivery.event_id,
            endpoint_id=endpoint.id,
            url=endpoint.url,
            secret_salt=endpoint.secret_salt,
            body=body,
            attempts=claimed,
            created_at=delivery.created_at,
            claimed_until=until,
        )

    async def finish(
        self,
        attempt: Attempt,
        *,
        status: DeliveryStatus,
        status_code: int | None,
        at: datetime,
        next_attempt_at: datetime,
    ) -> bool:
        # Guarded by the attempt count: an outcome arriving after another claim took over is dropped.
        finished = await self._session.scalar(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.id == attempt.delivery_id,
                WebhookDeliveryRow.status == DeliveryStatus.PENDING.value,
                WebhookDeliveryRow.attempts == attempt.attempts,
            )
            .values(
                status=status.value,
                last_status_code=status_code,
                delivered_at=at if status is DeliveryStatus.DELIVERED else None,
                next_attempt_at=next_attempt_at,
            )
            .returning(WebhookDeliveryRow.id)
        )
        return finished is not None
