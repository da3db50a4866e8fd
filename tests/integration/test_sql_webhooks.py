"""The webhook outbox and delivery log on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.integration.conftest import eventually
from tests.integration.races import lock_waiters
from tests.integration.sql_fixtures import Database
from tests.integration.webhook_scene import endpoint, event, tenant
from vidplat.domain.pagination import PageRequest
from vidplat.domain.webhooks.model import DeliveryStatus, Endpoint, EventType, WebhookEvent


async def _count(db: Database, table: str) -> int:
    async with db.engine.connect() as connection:
        return int(await connection.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def _pending(db: Database, hook: Endpoint, happened: WebhookEvent) -> None:
    """The endpoint, then the event in a transaction of its own: one delivery waits for it."""
    async with db.uow() as uow:
        await uow.webhooks.add(hook)
        await uow.commit()
    async with db.uow() as uow:
        await uow.outbox.record(happened)
        await uow.commit()


async def test_an_event_gets_one_pending_delivery_per_endpoint_of_its_organization_that_wants_it(db: Database) -> None:
    ours, theirs = await tenant(db), await tenant(db)
    everything = endpoint(ours.org)
    only_failures = endpoint(ours.org, "https://b.example.com/", EventType.VIDEO_FAILED)
    other_org = endpoint(theirs.org)
    happened = event(ours.org, EventType.VIDEO_READY)
    async with db.uow() as uow:
        for e in (everything, only_failures, other_org):
            await uow.webhooks.add(e)
        await uow.commit()
    async with db.uow() as uow:
        await uow.outbox.record(happened)
        await uow.commit()

    async with db.uow(read_only=True) as uow:
        log = await uow.webhooks.deliveries(ours.org.id, everything.id, PageRequest())
        none_for_failures = await uow.webhooks.deliveries(ours.org.id, only_failures.id, PageRequest())
        none_for_theirs = await uow.webhooks.deliveries(theirs.org.id, other_org.id, PageRequest())
        due = await uow.webhooks.due(happened.occurred_at, 10)
    assert log is not None
    [delivery] = log.items
    assert (delivery.event_id, delivery.type, delivery.status, delivery.attempts) == (
        happened.id,
        EventType.VIDEO_READY,
        DeliveryStatus.PENDING,
        0,
    )
    assert none_for_failures is not None
    assert none_for_failures.total == 0
    assert none_for_theirs is not None
    assert none_for_theirs.total == 0
    assert [d.id for d in due] == [delivery.id]


async def test_events_of_several_organizations_recorded_at_once_each_reach_only_their_own_endpoints(
    db: Database,
) -> None:
    ours, theirs, silent = await tenant(db), await tenant(db), await tenant(db)
    our_hook, only_failures, their_hook = (
        endpoint(ours.org),
        endpoint(ours.org, "https://b.example.com/", EventType.VIDEO_FAILED),
        endpoint(theirs.org),
    )
    async with db.uow() as uow:
        for hook in (our_hook, only_failures, their_hook):
            await uow.webhooks.add(hook)
        await uow.commit()
    happened = [event(ours.org), event(ours.org), event(theirs.org), event(silent.org)]
    async with db.uow() as uow:
        await uow.outbox.record(*happened)
        await uow.commit()

    async with db.uow(read_only=True) as uow:
        logs = [
            await uow.webhooks.deliveries(t.org.id, h.id, PageRequest())
            for t, h in ((ours, our_hook), (ours, only_failures), (theirs, their_hook))
        ]
    assert [sorted(d.event_id for d in log.items) if log else None for log in logs] == [
        sorted(e.id for e in happened[:2]),
        [],
        [happened[2].id],
    ]
    assert await _count(db, "webhook_events") == 3  # the organization without endpoints keeps none


async def test_an_event_whose_transaction_rolls_back_leaves_nothing_to_deliver(db: Database) -> None:
    ours = await tenant(db)
    async with db.uow() as uow:
        await uow.webhooks.add(endpoint(ours.org))
        await uow.commit()
    async with db.uow() as uow:
        await uow.outbox.record(event(ours.org))
        # no commit: the change the event belongs to did not happen

    assert await _count(db, "webhook_events") == 0
    assert await _count(db, "webhook_deliveries") == 0


async def test_an_organization_without_endpoints_records_no_event(db: Database) -> None:
    ours = await tenant(db)
    async with db.uow() as uow:
        await uow.outbox.record(event(ours.org))
        await uow.commit()
    assert await _count(db, "webhook_events") == 0


async def test_the_body_is_the_event_as_json_with_type_timestamp_and_data(db: Database) -> None:
    ours = await tenant(db)
    hook, happened = endpoint(ours.org), event(ours.org)
    await _pending(db, hook, happened)
    async with db.uow() as uow:
        [due] = await uow.webhooks.due(happened.occurred_at, 10)
        attempt = await uow.webhooks.claim(due.id, happened.occurred_at, happened.occurred_at + timedelta(minutes=1))
        await uow.commit()
    assert attempt is not None
    body = json.loads(attempt.body)
    assert body == {
        "type": "video.ready",
        "timestamp": happened.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {"id": str(happened.data["id"]), "status": "ready"},
    }
    assert (attempt.url, attempt.secret_salt, attempt.attempts) == (hook.url, hook.secret_salt, 1)


async def test_a_claimed_delivery_is_not_claimed_again_until_its_claim_runs_out(db: Database) -> None:
    ours = await tenant(db)
    happened = event(ours.org)
    await _pending(db, endpoint(ours.org), happened)
    now = happened.occurred_at
    async with db.uow() as uow:
        [due] = await uow.webhooks.due(now, 10)
        first = await uow.webhooks.claim(due.id, now, now + timedelta(minutes=1))
        second = await uow.webhooks.claim(due.id, now, now + timedelta(minutes=1))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.webhooks.due(now + timedelta(seconds=59), 10) == []
        retaken = await uow.webhooks.claim(due.id, now + timedelta(minutes=1), now + timedelta(minutes=2))
        # The first attempt's late outcome is dropped: the delivery is the second attempt's now.
        assert first is not None
        assert retaken is not None
        late = await uow.webhooks.finish(
            first, status=DeliveryStatus.DELIVERED, status_code=200, at=now, next_attempt_at=now
        )
        kept = await uow.webhooks.finish(
            retaken, status=DeliveryStatus.DELIVERED, status_code=204, at=now, next_attempt_at=now
        )
        await uow.commit()
    assert second is None
    assert (first.attempts, retaken.attempts, late, kept) == (1, 2, False, True)


async def test_another_organization_cannot_see_or_delete_an_endpoint(db: Database) -> None:
    ours, theirs = await tenant(db), await tenant(db)
    hook = endpoint(ours.org)
    async with db.uow() as uow:
        await uow.webhooks.add(hook)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.webhooks.deliveries(theirs.org.id, hook.id, PageRequest()) is None
        assert await uow.webhooks.delete(theirs.org.id, hook.id) is False
        assert (await uow.webhooks.list(theirs.org.id, PageRequest())).total == 0
        assert [e.id for e in (await uow.webhooks.list(ours.org.id, PageRequest())).items] == [hook.id]


async def test_deleting_an_endpoint_removes_its_delivery_log(db: Database) -> None:
    ours = await tenant(db)
    hook = endpoint(ours.org)
    async with db.uow() as uow:
        await uow.webhooks.add(hook)
        await uow.commit()
    async with db.uow() as uow:
        await uow.outbox.record(event(ours.org))
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.webhooks.delete(ours.org.id, hook.id) is True
        await uow.commit()
    assert await _count(db, "webhook_deliveries") == 0
    assert await _count(db, "webhook_endpoints") == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer
async def test_an_endpoint_deleted_while_an_event_is_recorded_waits_and_takes_the_new_delivery_along(
    db: Database,
) -> None:
    ours = await tenant(db)
    hook = endpoint(ours.org)
    async with db.uow() as uow:
        await uow.webhooks.add(hook)
        await uow.commit()

    async def delete() -> bool:
        async with db.uow() as uow:
            deleted = await uow.webhooks.delete(ours.org.id, hook.id)
            await uow.commit()
            return deleted

    async with db.uow() as recording:
        await recording.outbox.record(event(ours.org))  # holds the endpoint's key-share lock
        deleting = asyncio.ensure_future(delete())

        async def blocked() -> bool | None:
            assert not deleting.done(), "the delete did not wait for the recording transaction"
            return True if await lock_waiters(db) else None

        await eventually(blocked, within=30, what="the delete waiting for the endpoint's lock")
        await recording.commit()
    assert await asyncio.wait_for(deleting, 30) is True
    assert await _count(db, "webhook_deliveries") == 0
    assert await _count(db, "webhook_endpoints") == 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer
async def test_two_workers_claiming_one_delivery_at_once_make_one_attempt(db: Database) -> None:
    ours = await tenant(db)
    happened = event(ours.org)
    await _pending(db, endpoint(ours.org), happened)
    now, until = happened.occurred_at, happened.occurred_at + timedelta(minutes=1)
    async with db.uow(read_only=True) as uow:
        [due] = await uow.webhooks.due(now, 10)

    async def claim() -> object:
        async with db.uow() as uow:
            claimed = await uow.webhooks.claim(due.id, now, until)
            await uow.commit()
            return claimed

    async with db.uow() as first:
        mine = await first.webhooks.claim(due.id, now, until)  # row-locked until this commits
        second = asyncio.ensure_future(claim())

        async def blocked() -> bool | None:
            assert not second.done(), "the second claim did not wait for the first"
            return True if await lock_waiters(db) else None

        await eventually(blocked, within=30, what="the second claim waiting for the row")
        await first.commit()
    assert mine is not None
    assert mine.attempts == 1
    assert await asyncio.wait_for(second, 30) is None
