"""Keyset (cursor) pages on SQLite and PostgreSQL: every row once, in order, while rows are added."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from tests.integration.sql_fixtures import NOW, Database, make_credit, make_org, make_subscription, make_user
from tests.integration.sql_fixtures import make_video as video_of
from tests.plans import PAID
from vidplat.domain.pagination import Page, PageRequest, Slice
from vidplat.domain.videos.model import VideoStatus

T = TypeVar("T")
Listing = Callable[[PageRequest], Awaitable[Page[T] | Slice[T]]]


async def walk(listing: Listing[T], between: Callable[[], Awaitable[None]], limit: int = 3) -> list[T]:
    """Follow next_cursor to the last page (a bounded number of pages), running `between` after each."""
    seen: list[T] = []
    request = PageRequest(limit=limit)
    for _ in range(100):
        page = await listing(request)
        seen.extend(page.items)
        await between()
        if page.next_cursor is None:
            return seen
        request = PageRequest(limit=limit, after=page.next_cursor)
    raise AssertionError("the cursor never reached the last page")


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


async def test_a_cursor_walks_every_video_once_newest_first_while_videos_are_added(db: Database) -> None:
    org, other = make_org(), make_org()
    admin, stranger = make_user(org), make_user(other)
    # Ties on created_at are broken by id, so a page boundary inside a tie loses nothing.
    videos = [video_of(admin, f"v{i}", created_at=NOW + minutes(i // 3)) for i in range(10)]
    trashed = video_of(admin, "gone", deleted_at=NOW)
    await db.seed(org, other, admin, stranger, *videos, trashed, video_of(stranger))
    added = 0

    async def upload_one() -> None:
        nonlocal added
        added += 1
        await db.seed(video_of(admin, f"new {added}", created_at=NOW + minutes(100 + added)))

    async def listing(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.videos.list(org.id, request, statuses=None, title_query=None)
        assert page.total == 10 + added  # counted with the filters, not the cursor
        return Page([v.id for v in page.items], page.total, page.limit, page.offset, page.next_cursor)

    seen = await walk(listing, upload_one)
    expected = sorted(videos, key=lambda v: (v.created_at, v.id.bytes), reverse=True)
    assert seen == [v.id for v in expected]


async def test_a_cursor_keeps_the_title_and_status_filters(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    ready = [video_of(admin, f"Cats {i}", created_at=NOW + minutes(i)) for i in range(5)]
    others = [video_of(admin, "Cats draft", status=VideoStatus.PROCESSING), video_of(admin, "Dogs")]
    await db.seed(org, admin, *ready, *others)

    async def listing(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.videos.list(org.id, request, statuses=[VideoStatus.READY], title_query="cats")
        return Page([v.title for v in page.items], page.total, page.limit, page.offset, page.next_cursor)

    assert await walk(listing, _nothing, limit=2) == [f"Cats {i}" for i in reversed(range(5))]


async def test_a_cursor_walks_the_trash_and_the_subscription_history(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    trash = [video_of(admin, f"t{i}", created_at=NOW + minutes(i), deleted_at=NOW) for i in range(4)]
    history = [make_subscription(org, PAID, started_at=NOW - timedelta(days=i), ended_at=NOW) for i in range(1, 5)]
    await db.seed(org, admin, *trash, video_of(admin), *history, make_subscription(org))

    async def deleted(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.videos.list(org.id, request, statuses=None, title_query=None, deleted=True)
        return Page([v.title for v in page.items], page.total, page.limit, page.offset, page.next_cursor)

    async def subscriptions(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.subscriptions.history(org.id, request)
        assert page.total == 5
        return Page([s.started_at for s in page.items], page.total, page.limit, page.offset, page.next_cursor)

    assert await walk(deleted, _nothing) == ["t3", "t2", "t1", "t0"]
    assert await walk(subscriptions, _nothing, limit=2) == [NOW - timedelta(days=i) for i in range(5)]


async def test_a_cursor_walks_users_oldest_first_and_sees_those_added_behind_it(db: Database) -> None:
    org = make_org()
    users = [make_user(org, f"u{i:02}@example.com", created_at=NOW + minutes(i // 2)) for i in range(9)]
    gone = make_user(org, "gone@example.com", deleted_at=NOW)
    await db.seed(org, *users, gone)
    joined: list[str] = []

    async def join_one() -> None:
        email = f"new{len(joined)}@example.com"
        joined.append(email)
        await db.seed(make_user(org, email, created_at=NOW + minutes(100 + len(joined))))

    async def listing(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.users.list(org.id, request, role=None, email_query=None)
        return Page([u.email for u in page.items], page.total, page.limit, page.offset, page.next_cursor)

    seen = await walk(listing, join_one, limit=4)
    ordered = [u.email for u in sorted(users, key=lambda u: (u.created_at, u.id.bytes))]
    # Oldest first, users who join during the walk come after the cursor: each is listed once.
    assert seen[: len(users)] == ordered
    assert len(seen) == len(set(seen))
    assert set(seen[len(users) :]) <= set(joined)
    assert "gone@example.com" not in seen


async def test_a_cursor_walks_a_users_ledger_newest_first(db: Database) -> None:
    org = make_org()
    user, other = make_user(org), make_user(org)
    videos = [video_of(user, f"v{i}") for i in range(7)]
    credits = [make_credit(user, v.id, awarded_at=NOW + minutes(i // 2)) for i, v in enumerate(videos)]
    await db.seed(org, user, other, *videos, *credits, make_credit(other, videos[0].id))

    async def listing(request: PageRequest) -> Slice[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.credits.list_for_user(user.id, request)
        return Slice([c.id for c in page.items], page.limit, page.offset, page.next_cursor)

    expected = sorted(credits, key=lambda c: (c.awarded_at, c.id.bytes), reverse=True)
    assert await walk(listing, _nothing) == [c.id for c in expected]


async def test_offset_pages_still_work_and_hand_out_a_cursor(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    videos = [video_of(admin, f"v{i}", created_at=NOW + minutes(i)) for i in range(5)]
    await db.seed(org, admin, *videos)
    async with db.uow(read_only=True) as uow:
        second = await uow.videos.list(org.id, PageRequest(limit=2, offset=2), statuses=None, title_query=None)
        assert second.next_cursor is not None
        third = await uow.videos.list(
            org.id, PageRequest(limit=2, after=second.next_cursor), statuses=None, title_query=None
        )
        last = await uow.videos.list(org.id, PageRequest(limit=2, offset=4), statuses=None, title_query=None)
    assert [v.title for v in second.items] == ["v2", "v1"]
    assert [v.title for v in third.items] == ["v0"]
    assert (third.next_cursor, last.next_cursor, second.total) == (None, None, 5)


async def _nothing() -> None:
    return None


async def test_a_cursor_walks_purchases_made_at_one_instant_in_their_order(db: Database) -> None:
    org = make_org()
    # A stopped clock: the TRIAL and three purchases all start at NOW, each ending later.
    trial = make_subscription(org, started_at=NOW, ended_at=NOW)
    chained = [make_subscription(org, PAID, started_at=NOW, ended_at=NOW if i < 2 else None) for i in range(3)]
    for i, subscription in enumerate(chained):
        subscription.ends_at = NOW + timedelta(days=15 * (i + 1))
    await db.seed(org, trial, *chained)

    async def history(request: PageRequest) -> Page[object]:
        async with db.uow(read_only=True) as uow:
            page = await uow.subscriptions.history(org.id, request)
        return Page([s.id for s in page.items], page.total, page.limit, page.offset, page.next_cursor)

    whole = await history(PageRequest(limit=10))
    assert whole.items == [chained[2].id, chained[1].id, chained[0].id, trial.id]
    assert await walk(history, _nothing, limit=1) == whole.items
