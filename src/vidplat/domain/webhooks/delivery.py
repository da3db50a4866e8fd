"""Delivery: each attempt claimed in one short transaction, sent with none open, its outcome in another."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from uuid import UUID

from vidplat.domain.ports import Clock, JobQueue, WebhookSender, WebhookUnitOfWorkFactory
from vidplat.domain.webhooks.model import DeliveryStatus, Retries
from vidplat.domain.webhooks.secrets import signing_secret

log = logging.getLogger(__name__)

# Longer than one attempt can take (the sender's 10 s bound): another worker only retakes a
# delivery whose attempt died with its process.
CLAIM = timedelta(seconds=60)
SWEEP_BATCH = 1000


def _succeeded(status_code: int | None) -> bool:
    return status_code is not None and HTTPStatus.OK <= status_code < HTTPStatus.MULTIPLE_CHOICES


@dataclass(frozen=True, slots=True)
class DeliverWebhook:
    """Make one attempt of a delivery, if it is still pending and due; at least once, never concurrently."""

    uow: WebhookUnitOfWorkFactory
    sender: WebhookSender
    clock: Clock
    key: bytes | None
    retries: Retries = field(default_factory=Retries)

    async def __call__(self, delivery_id: UUID) -> DeliveryStatus | None:
        """The delivery's status after this attempt; None when there was nothing to attempt."""
        now = self.clock.now()
        async with self.uow() as uow:
            attempt = await uow.webhooks.claim(delivery_id, now, now + CLAIM)
            await uow.commit()
        if attempt is None:
            return None
        status_code = None
        if self.key is not None:
            secret = signing_secret(self.key, attempt.endpoint_id, attempt.secret_salt)
            status_code = await self.sender.send(attempt.url, secret, str(attempt.event_id), now, attempt.body)
        finished = self.clock.now()
        if _succeeded(status_code):
            status, next_at = DeliveryStatus.DELIVERED, finished
        else:
            retry_at = self.retries.next_attempt(attempt.created_at, attempt.attempts, finished)
            status = DeliveryStatus.PENDING if retry_at is not None else DeliveryStatus.FAILED
            next_at = retry_at or finished
        async with self.uow() as uow:
            kept = await uow.webhooks.finish(
                attempt, status=status, status_code=status_code, at=finished, next_attempt_at=next_at
            )
            await uow.commit()
        log.info("webhook delivery %s attempt %d: %s (%s)", delivery_id, attempt.attempts, status, status_code)
        return status if kept else None


async def enqueue_deliveries(jobs: JobQueue, deliveries: Sequence[tuple[UUID, int]]) -> None:
    """Hand each (delivery, attempts made) to the job queue; a failure leaves the rest to the sweep."""
    for delivery_id, attempts in deliveries:
        await jobs.enqueue_webhook_delivery(delivery_id, attempts)


@dataclass(frozen=True, slots=True)
class SweepWebhooks:
    """Cron: enqueue every pending delivery that is due, so a queue that was down when it was recorded loses nothing."""

    uow: WebhookUnitOfWorkFactory
    jobs: JobQueue
    clock: Clock

    async def __call__(self) -> int:
        async with self.uow(read_only=True) as uow:
            due = await uow.webhooks.due(self.clock.now(), SWEEP_BATCH)
        await enqueue_deliveries(self.jobs, [(d.id, d.attempts) for d in due])
        return len(due)
