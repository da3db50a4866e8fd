"""Webhook endpoints, events (the outbox) and their deliveries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID


class EventType(StrEnum):
    VIDEO_READY = "video.ready"
    VIDEO_FAILED = "video.failed"
    SUBSCRIPTION_ACTIVATED = "subscription.activated"
    SUBSCRIPTION_EXPIRED = "subscription.expired"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    id: UUID
    organization_id: UUID
    url: str
    events: frozenset[EventType]
    # Random per endpoint; the signing secret is derived from it and the server's key, never stored.
    secret_salt: bytes
    created_at: datetime

    def wants(self, event_type: EventType) -> bool:
        return event_type in self.events


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookEvent:
    """Something that happened, recorded in the same transaction as the change itself."""

    id: UUID
    organization_id: UUID
    type: EventType
    occurred_at: datetime
    data: Mapping[str, object]  # the Video or Subscription as the API shows it


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One event's way to one endpoint: the delivery log's row."""

    id: UUID
    endpoint_id: UUID
    event_id: UUID
    type: EventType
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None
    next_attempt_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """A delivery claimed for one attempt: what to send, where, and the claim that guards the outcome."""

    delivery_id: UUID
    event_id: UUID
    endpoint_id: UUID
    url: str
    secret_salt: bytes
    body: bytes
    attempts: int  # made so far, this one included
    created_at: datetime
    claimed_until: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Retries:
    """Exponential backoff: first retry after `first_delay`, doubling, given up `give_up_after` the event."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=6)
    give_up_after: timedelta = timedelta(hours=24)

    def next_attempt(self, created_at: datetime, attempts_made: int, now: datetime) -> datetime | None:
        """When to try again after `attempts_made` failures, or None once past the retry window."""
        delay = min(self.first_delay * 2 ** (attempts_made - 1), self.max_delay)
        due = now + delay
        return due if due <= created_at + self.give_up_after else None


ALL_EVENTS = frozenset(EventType)
