"""The catalog's totals come from counts that triggers keep: every way a video changes moves them."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from tests.integration.sql_fixtures import NOW, Database, make_org, make_user, make_video
from vidplat.adapters.sql.rows import VideoRow
from vidplat.domain.accounts.model import Organization
from vidplat.domain.videos.model import VideoStatus

FILTERS: list[tuple[list[VideoStatus] | None, bool]] = [
    (None, False),
    ([VideoStatus.READY], False),
    ([VideoStatus.PROCESSING, VideoStatus.FAILED], False),
    (None, True),
]


async def assert_counts_match_the_rows(db: Database, *orgs: Organization) -> None:
    """The kept counts equal a count(*) of the rows, for every filter a listing uses."""
    for org in orgs:
        for statuses, deleted in FILTERS:
            async with db.uow(read_only=True) as uow:
                kept = await uow.videos.count(org.id, statuses=statuses, title_query=None, deleted=deleted)
            where = [VideoRow.organization_id == org.id]
            where.append(VideoRow.deleted_at.is_not(None) if deleted else VideoRow.deleted_at.is_(None))
            if statuses is not None:
                where.append(VideoRow.status.in_([s.value for s in statuses]))
            async with db.engine.connect() as connection:
                counted = await connection.scalar(select(func.count()).select_from(VideoRow).where(*where))
            assert kept == counted, (org.name, statuses, deleted, kept, counted)


async def test_counts_follow_uploads_status_changes_trash_restore_and_deletes(db: Database) -> None:
    org, other = make_org(), make_org()
    admin, stranger = make_user(org), make_user(other)
    videos = [make_video(admin, status=status) for status in (*VideoStatus, VideoStatus.READY)]
    trashed = make_video(admin, deleted_at=NOW)
    await db.seed(org, other, admin, stranger, *videos, trashed, make_video(stranger))
    await assert_counts_match_the_rows(db, org, other)
    async with db.uow(read_only=True) as uow:
        assert await uow.videos.count(org.id, statuses=None, title_query=None) == 4

    changes = [
        update(VideoRow).where(VideoRow.id == videos[0].id).values(status="ready"),  # processed
        update(VideoRow).where(VideoRow.id == videos[1].id).values(deleted_at=NOW),  # trashed
        update(VideoRow).where(VideoRow.id == trashed.id).values(deleted_at=None),  # restored
        update(VideoRow).where(VideoRow.id == videos[2].id).values(title="Renamed"),  # counts unchanged
        delete(VideoRow).where(VideoRow.id == videos[3].id),  # purged
        # One statement over many videos of several organizations, as a bulk purge writes.
        update(VideoRow).where(VideoRow.organization_id.in_([org.id, other.id])).values(deleted_at=NOW),
        update(VideoRow).where(VideoRow.id == videos[0].id).values(status="failed", deleted_at=None),
        delete(VideoRow).where(VideoRow.deleted_at.is_not(None)),
    ]
    for change in changes:
        async with db.engine.begin() as connection:
            await connection.execute(change)
        await assert_counts_match_the_rows(db, org, other)


async def test_concurrent_uploads_to_one_organization_are_all_counted(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    await db.seed(org, admin)

    async def upload(n: int) -> None:
        async with db.uow() as uow:
            await uow.videos.add(make_video(admin, f"v{n}", created_at=NOW + timedelta(seconds=n)))
            await uow.commit()

    await asyncio.gather(*(upload(n) for n in range(8)))
    await assert_counts_match_the_rows(db, org)
    async with db.uow(read_only=True) as uow:
        assert await uow.videos.count(org.id, statuses=[VideoStatus.READY], title_query=None) == 8


async def test_a_rolled_back_upload_is_not_counted(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    await db.seed(org, admin)
    async with db.uow() as uow:
        await uow.videos.add(make_video(admin))  # no commit
    await assert_counts_match_the_rows(db, org)
