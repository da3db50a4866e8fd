"""Admin use cases for an organization's webhook endpoints and their delivery log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from vidplat.domain.accounts.model import Principal
from vidplat.domain.errors import InvalidInput, WebhookNotFound, WebhooksNotConfigured, WebhookUrlRefused
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import Clock, WebhookSender, WebhookUnitOfWorkFactory
from vidplat.domain.webhooks.model import ALL_EVENTS, Delivery, Endpoint, EventType
from vidplat.domain.webhooks.secrets import new_salt, signing_secret

MAX_URL = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateEndpointCommand:
    url: str
    events: Sequence[str] | None = None  # None: every event


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedEndpoint:
    endpoint: Endpoint
    secret: str  # shown once, at creation


def _events(requested: Sequence[str] | None) -> frozenset[EventType]:
    if requested is None:
        return ALL_EVENTS
    known = {e.value for e in EventType}
    unknown = sorted(set(requested) - known)
    if unknown:
        raise InvalidInput("events", f"unknown event type {unknown[0]!r}; known: {', '.join(sorted(known))}")
    if not requested:
        raise InvalidInput("events", "must name at least one event type, or be left out for all")
    return frozenset(EventType(e) for e in requested)


@dataclass(frozen=True, slots=True)
class CreateEndpoint:
    """Vet the URL (no transaction open while it resolves), then store the endpoint."""

    uow: WebhookUnitOfWorkFactory
    sender: WebhookSender
    clock: Clock
    key: bytes | None

    async def __call__(self, principal: Principal, cmd: CreateEndpointCommand) -> CreatedEndpoint:
        principal.require_admin()
        if self.key is None:
            raise WebhooksNotConfigured
        if len(cmd.url) > MAX_URL:
            raise WebhookUrlRefused(f"must be at most {MAX_URL} characters")
        events = _events(cmd.events)
        await self.sender.vet(cmd.url)
        endpoint = Endpoint(
            id=new_id(),
            organization_id=principal.organization_id,
            url=cmd.url,
            events=events,
            secret_salt=new_salt(),
            created_at=self.clock.now(),
        )
        async with self.uow() as uow:
            await uow.webhooks.add(endpoint)
            await uow.commit()
        return CreatedEndpoint(endpoint=endpoint, secret=signing_secret(self.key, endpoint.id, endpoint.secret_salt))


@dataclass(frozen=True, slots=True)
class ListEndpoints:
    uow: WebhookUnitOfWorkFactory

    async def __call__(self, principal: Principal, page: PageRequest) -> Page[Endpoint]:
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            return await uow.webhooks.list(principal.organization_id, page)


@dataclass(frozen=True, slots=True)
class DeleteEndpoint:
    """Remove the endpoint: its pending deliveries go with it and are never sent."""

    uow: WebhookUnitOfWorkFactory

    async def __call__(self, principal: Principal, endpoint_id: UUID) -> None:
        principal.require_admin()
        async with self.uow() as uow:
            if not await uow.webhooks.delete(principal.organization_id, endpoint_id):
                raise WebhookNotFound
            await uow.commit()


@dataclass(frozen=True, slots=True)
class ListDeliveries:
    uow: WebhookUnitOfWorkFactory

    async def __call__(self, principal: Principal, endpoint_id: UUID, page: PageRequest) -> Page[Delivery]:
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            found = await uow.webhooks.deliveries(principal.organization_id, endpoint_id, page)
        if found is None:
            raise WebhookNotFound
        return found
