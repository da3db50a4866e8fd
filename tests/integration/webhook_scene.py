"""What the webhook tests on the SQL adapter share: an organization with an admin, and a wall-time clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tests.integration.sql_fixtures import Database, make_org, make_user
from vidplat.domain.accounts.model import Organization, Principal, Role
from vidplat.domain.ids import new_id
from vidplat.domain.webhooks.model import Endpoint, EventType, WebhookEvent
from vidplat.domain.webhooks.secrets import new_salt

KEY = b"webhooks-test-key-" + b"k" * 32


class Clock:
    """Wall time when made (signatures are checked against the receiver's clock), moved only by the test."""

    def __init__(self) -> None:
        self.current = datetime.now(UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, delta: timedelta) -> None:
        self.current += delta


@dataclass
class Tenant:
    org: Organization
    admin: Principal


async def tenant(db: Database) -> Tenant:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    await db.seed(org, admin)
    return Tenant(org, Principal(user_id=admin.id, organization_id=org.id, role=Role.ADMIN))


def endpoint(org: Organization, url: str = "https://hooks.example.com/in", *events: EventType) -> Endpoint:
    return Endpoint(
        id=new_id(),
        organization_id=org.id,
        url=url,
        events=frozenset(events or EventType),
        secret_salt=new_salt(),
        created_at=datetime.now(UTC),
    )


def event(org: Organization, event_type: EventType = EventType.VIDEO_READY, at: datetime | None = None) -> WebhookEvent:
    return WebhookEvent(
        id=new_id(),
        organization_id=org.id,
        type=event_type,
        occurred_at=at or datetime.now(UTC),
        data={"id": new_id(), "status": "ready"},
    )
