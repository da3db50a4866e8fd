"""Webhook delivery end to end on each database: a loopback receiver, real signatures, the SSRF guard."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import pytest

from tests.integration.sql_fixtures import Database
from tests.integration.webhook_scene import KEY, Clock, Tenant, event, tenant
from tests.receiver import receiver
from tests.unit.fakes import FakeJobQueue
from vidplat.adapters.outbound.webhooks import GuardedWebhookSender, Resolve
from vidplat.adapters.sql import SqlUnitOfWork
from vidplat.domain.errors import Unavailable, WebhookUrlRefused
from vidplat.domain.pagination import PageRequest
from vidplat.domain.webhooks.delivery import DeliverWebhook, SweepWebhooks
from vidplat.domain.webhooks.endpoints import CreatedEndpoint, CreateEndpoint, CreateEndpointCommand, ListDeliveries
from vidplat.domain.webhooks.model import Delivery, DeliveryStatus


async def _create(db: Database, who: Tenant, url: str, sender: GuardedWebhookSender, clock: Clock) -> CreatedEndpoint:
    return await CreateEndpoint(db.uow, sender, clock, KEY)(who.admin, CreateEndpointCommand(url=url))


async def _one_pending(db: Database, clock: Clock) -> tuple[SweepWebhooks, FakeJobQueue, Sequence[Delivery]]:
    jobs = FakeJobQueue()
    sweep = SweepWebhooks(db.uow, jobs, clock)
    await sweep()
    async with db.uow(read_only=True) as uow:
        due = await uow.webhooks.due(clock.now(), 10)
    return sweep, jobs, due


async def test_a_receiver_failing_twice_gets_the_event_exactly_once_delivered_after_three_attempts(
    db: Database,
) -> None:
    clock, who = Clock(), await tenant(db)
    sender = GuardedWebhookSender(allow_private=True)
    deliver = DeliverWebhook(db.uow, sender, clock, KEY)
    with receiver(500, 503) as hook:
        created = await _create(db, who, hook.url, sender, clock)
        async with db.uow() as uow:
            await uow.outbox.record(happened := event(who.org, at=clock.now()))
            await uow.commit()
        sweep, jobs, [pending] = await _one_pending(db, clock)
        assert jobs.deliveries == [(pending.id, 0)]

        assert await deliver(pending.id) is DeliveryStatus.PENDING  # 500
        assert await deliver(pending.id) is None  # backing off: not due yet
        assert await sweep() == 0
        clock.advance(timedelta(seconds=30))
        assert await sweep() == 1
        assert await deliver(pending.id) is DeliveryStatus.PENDING  # 503
        clock.advance(timedelta(seconds=59))
        assert await deliver(pending.id) is None  # the second wait doubles
        clock.advance(timedelta(seconds=1))
        assert await deliver(pending.id) is DeliveryStatus.DELIVERED
        clock.advance(timedelta(hours=1))
        assert await sweep() == 0
        assert await deliver(pending.id) is None

    assert len(hook.received) == 3
    assert {r.headers["webhook-id"] for r in hook.received} == {str(happened.id)}
    for request in hook.received:
        assert request.verified(created.secret) == {
            "type": "video.ready",
            "timestamp": happened.occurred_at.isoformat().replace("+00:00", "Z"),
            "data": {"id": str(happened.data["id"]), "status": "ready"},
        }
    log = await ListDeliveries(db.uow)(who.admin, created.endpoint.id, PageRequest())
    [delivered] = log.items
    assert (delivered.status, delivered.attempts, delivered.last_status_code) == (DeliveryStatus.DELIVERED, 3, 200)
    assert delivered.delivered_at is not None


async def test_a_receiver_that_never_answers_2xx_is_given_up_after_24_hours(db: Database) -> None:
    clock, who = Clock(), await tenant(db)
    sender = GuardedWebhookSender(allow_private=True)
    deliver = DeliverWebhook(db.uow, sender, clock, KEY)
    with receiver(*[302] * 50) as hook:
        await _create(db, who, hook.url, sender, clock)
        async with db.uow() as uow:
            await uow.outbox.record(event(who.org, at=clock.now()))
            await uow.commit()
        _, _, [pending] = await _one_pending(db, clock)
        statuses = []
        for _ in range(40):
            statuses.append(await deliver(pending.id))
            if statuses[-1] is DeliveryStatus.FAILED:
                break
            clock.advance(timedelta(hours=6))
    # A redirect is not followed and does not count: 30 s, 1, 2, 4 min ... up to 24 h, then failed.
    assert statuses[-1] is DeliveryStatus.FAILED
    assert all(s is DeliveryStatus.PENDING for s in statuses[:-1])
    assert len(hook.received) == len(statuses) == 5
    assert all(r.path == "/hooks" for r in hook.received)


def _resolving(*answers: Sequence[str]) -> Resolve:
    """A resolver giving each answer in turn (the last one from then on): a DNS name that changes."""
    remaining = list(answers)

    async def resolve(host: str, port: int) -> Sequence[str]:
        return remaining.pop(0) if len(remaining) > 1 else remaining[0]

    return resolve


async def test_a_name_that_resolves_to_loopback_by_delivery_time_is_not_called(db: Database) -> None:
    clock, who = Clock(), await tenant(db)
    with receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        rebinding = GuardedWebhookSender(resolve=_resolving(["93.184.216.34"], ["127.0.0.1"]))
        await _create(db, who, f"http://hooks.example.com:{port}/hooks", rebinding, clock)
        async with db.uow() as uow:
            await uow.outbox.record(event(who.org, at=clock.now()))
            await uow.commit()
        _, _, [pending] = await _one_pending(db, clock)
        assert await DeliverWebhook(db.uow, rebinding, clock, KEY)(pending.id) is DeliveryStatus.PENDING
    assert hook.received == []
    async with db.uow(read_only=True) as uow:
        [after] = await uow.webhooks.due(clock.now() + timedelta(minutes=1), 10)
    assert (after.attempts, after.last_status_code) == (1, None)


async def test_delivery_connects_to_the_address_it_checked_and_names_the_host_in_the_host_header(
    db: Database,
) -> None:
    clock, who = Clock(), await tenant(db)
    with receiver() as hook:
        port = hook.url.split(":")[2].split("/")[0]
        pinned = GuardedWebhookSender(allow_private=True, resolve=_resolving(["127.0.0.1"]))
        await _create(db, who, f"http://hooks.example.com:{port}/hooks?k=1", pinned, clock)
        async with db.uow() as uow:
            await uow.outbox.record(event(who.org, at=clock.now()))
            await uow.commit()
        _, _, [pending] = await _one_pending(db, clock)
        assert await DeliverWebhook(db.uow, pinned, clock, KEY)(pending.id) is DeliveryStatus.DELIVERED
    [request] = hook.received
    assert request.headers["host"] == f"hooks.example.com:{port}"
    assert request.path == "/hooks?k=1"


async def test_an_endpoint_aimed_inside_the_network_is_refused_at_creation_and_not_stored(db: Database) -> None:
    who = await tenant(db)
    sender = GuardedWebhookSender(resolve=_resolving(["10.0.0.7"]))
    with pytest.raises(WebhookUrlRefused):
        await _create(db, who, "http://internal.example.com/hooks", sender, Clock())
    async with db.uow(read_only=True) as uow:
        assert (await uow.webhooks.list(who.org.id, PageRequest())).total == 0


async def test_a_queue_that_is_down_when_the_change_commits_loses_nothing_the_sweep_enqueues_it(
    db: Database,
) -> None:
    clock, who = Clock(), await tenant(db)
    await _create(db, who, "http://127.0.0.1:9/hooks", GuardedWebhookSender(allow_private=True), clock)
    handed: list[Sequence[tuple[UUID, int]]] = []

    async def queue_down(deliveries: Sequence[tuple[UUID, int]]) -> None:
        handed.append(deliveries)
        raise Unavailable("The job queue is unavailable; try again shortly.")

    async with SqlUnitOfWork(db.sessions, db.publish, deliver=queue_down) as uow:
        await uow.outbox.record(event(who.org, at=clock.now()))
        await uow.commit()  # the enqueue after it fails; the commit stands

    [[(delivery_id, attempts)]] = handed
    jobs = FakeJobQueue()
    assert await SweepWebhooks(db.uow, jobs, clock)() == 1
    assert jobs.deliveries == [(delivery_id, attempts)]
