"""The events the use cases record in the transaction of the change (the outbox), and their data."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.factories import Tenant, World, mp4_bytes, subscribe_paid, upload
from tests.unit.fakes import UNREADABLE
from vidplat.domain.billing.use_cases import ExpireSubscriptions
from vidplat.domain.webhooks.events import video_event
from vidplat.domain.webhooks.model import EventType, Retries


def _types(world: World) -> list[tuple[EventType, object]]:
    return [(e.type, e.data["id"]) for e in world.store.events.values()]


async def test_publishing_a_video_records_video_ready_with_the_video_as_published(world: World, acme: Tenant) -> None:
    video = await upload(world, acme.admin.principal)
    assert video.pending_key is not None
    world.clock.advance(seconds=5)

    await world.process()(video.id, video.pending_key)

    [event] = world.store.events.values()
    published = world.store.videos[video.id]
    assert (event.type, event.organization_id, event.occurred_at) == (
        EventType.VIDEO_READY,
        acme.org.id,
        world.clock.now(),
    )
    assert event.data == video_event(EventType.VIDEO_READY, published, world.clock.now()).data
    assert (event.data["status"], event.data["width"], event.data["size_bytes"]) == (
        "ready",
        1280,
        published.size_bytes,
    )


async def test_an_unreadable_upload_records_video_failed(world: World, acme: Tenant) -> None:
    video = await upload(world, acme.admin.principal, data=mp4_bytes(tail=UNREADABLE))
    assert video.pending_key is not None

    await world.process()(video.id, video.pending_key)

    [event] = world.store.events.values()
    assert (event.type, event.data["status"]) == (EventType.VIDEO_FAILED, "failed")
    assert event.data["failure_reason"]


async def test_a_publish_that_fails_to_commit_records_no_event(world: World, acme: Tenant) -> None:
    video = await upload(world, acme.admin.principal)
    assert video.pending_key is not None
    world.store.fail_next_commit(RuntimeError("database went away"))

    with pytest.raises(RuntimeError):
        await world.process()(video.id, video.pending_key)

    assert world.store.events == {}


async def test_a_purchase_records_subscription_activated_and_its_expiry_subscription_expired(
    world: World, acme: Tenant
) -> None:
    paid = await subscribe_paid(world, acme)
    world.clock.advance(days=20)
    await ExpireSubscriptions(world.uow, world.clock)()

    assert _types(world) == [
        (EventType.SUBSCRIPTION_ACTIVATED, paid.id),
        (EventType.SUBSCRIPTION_EXPIRED, paid.id),
    ]
    activated, expired = world.store.events.values()
    assert activated.data["active"] is True
    assert expired.data["active"] is False
    assert activated.data["plan"] == {
        "code": "PAID",
        "name": paid.plan.name,
        "price": paid.plan.price,
        "duration_days": paid.plan.duration_days,
        "can_restore_videos": True,
        "max_storage_bytes": 1024**4,
        "max_users": None,
    }


def test_retries_back_off_exponentially_and_give_up_after_24_hours(world: World) -> None:
    retries, start = Retries(), world.clock.now()
    assert retries.next_attempt(start, 1, start) == start + timedelta(seconds=30)
    assert retries.next_attempt(start, 2, start) == start + timedelta(seconds=60)
    assert retries.next_attempt(start, 20, start) == start + timedelta(hours=6)  # capped
    assert retries.next_attempt(start, 3, start + timedelta(hours=23, minutes=59)) is None
