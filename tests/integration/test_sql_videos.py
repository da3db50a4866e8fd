"""The video catalog on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from tests.integration.sql_fixtures import NOW, Database, make_org, make_user, make_video
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import PageRequest
from vidplat.domain.videos.model import VideoStatus


async def test_every_field_of_a_video_round_trips(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    video = make_video(admin, "Launch")
    video.description = "Ünïcode description"
    video.storage_key, video.thumbnail_key, video.checksum = "videos/a.mp4", "thumbs/a.jpg", "c" * 64
    video.duration_seconds, video.width, video.height = 12.345, 1920, 1080
    video.size_bytes = 5 * 2**30  # past 32 bits
    video.content_type, video.video_codec, video.audio_codec = "video/mp4", "h264", "aac"
    await db.seed(org, admin, video)
    async with db.uow() as uow:
        found = await uow.videos.get(org.id, video.id)
    assert found is not None
    assert asdict(found) == asdict(video)


async def test_updates_change_the_video_but_not_its_owner(db: Database) -> None:
    org, other = make_org(), make_org()
    admin = make_user(org)
    video = make_video(admin, status=VideoStatus.PROCESSING, pending_key="uploads/x")
    await db.seed(org, other, admin, video)
    video.status, video.pending_key, video.failure_reason = VideoStatus.FAILED, None, "Not a video."
    video.updated_at = NOW + timedelta(minutes=1)
    async with db.uow() as uow:
        await uow.videos.update(video, "status", "pending_key", "failure_reason", "updated_at")
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.videos.get(org.id, video.id)
    assert found is not None
    assert asdict(found) == asdict(video)


async def test_videos_are_read_only_within_their_organization(db: Database) -> None:
    org, other = make_org(), make_org()
    admin = make_user(org)
    video = make_video(admin)
    await db.seed(org, other, admin, video)
    async with db.uow() as uow:
        assert await uow.videos.get(other.id, video.id) is None
        assert (await uow.videos.list(other.id, PageRequest(), statuses=None, title_query=None)).total == 0
        assert await uow.videos.get_any(video.id) == video
        assert await uow.videos.get_any(new_id()) is None


async def test_trashed_videos_are_found_only_in_the_trash(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    live, trashed = make_video(admin), make_video(admin, deleted_at=NOW)
    await db.seed(org, admin, live, trashed)
    async with db.uow() as uow:
        assert await uow.videos.get(org.id, trashed.id) is None
        assert await uow.videos.get(org.id, trashed.id, deleted=True) == trashed
        assert await uow.videos.get(org.id, live.id, deleted=True) is None
        assert await uow.videos.get_any(trashed.id) == trashed
        listed = await uow.videos.list(org.id, PageRequest(), statuses=None, title_query=None)
        trash = await uow.videos.list(org.id, PageRequest(), statuses=None, title_query=None, deleted=True)
    assert [v.id for v in listed.items] == [live.id]
    assert [v.id for v in trash.items] == [trashed.id]


async def test_listing_is_newest_first_with_status_filter_and_total(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    statuses = [VideoStatus.READY, VideoStatus.PROCESSING, VideoStatus.READY, VideoStatus.FAILED, VideoStatus.READY]
    videos = [make_video(admin, status=s, created_at=NOW + timedelta(minutes=i)) for i, s in enumerate(statuses)]
    await db.seed(org, admin, *videos)
    async with db.uow() as uow:
        page = await uow.videos.list(org.id, PageRequest(limit=2, offset=1), statuses=None, title_query=None)
        ready = await uow.videos.list(org.id, PageRequest(), statuses=[VideoStatus.READY], title_query=None)
        beyond = await uow.videos.list(org.id, PageRequest(offset=50), statuses=None, title_query=None)
    assert [v.id for v in page.items] == [videos[3].id, videos[2].id]
    assert page.total == 5
    assert [v.id for v in ready.items] == [videos[4].id, videos[2].id, videos[0].id]
    assert ready.total == 3
    assert (beyond.items, beyond.total) == ([], 5)


async def test_title_search_is_case_insensitive_and_takes_wildcards_literally(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    await db.seed(org, admin, *(make_video(admin, title) for title in ("100% Real", "1000 real", "a_b", "axb")))

    async def search(query: str) -> set[str]:
        async with db.uow() as uow:
            page = await uow.videos.list(org.id, PageRequest(), statuses=None, title_query=query)
        return {v.title for v in page.items}

    assert await search("REAL") == {"100% Real", "1000 real"}
    assert await search("%") == {"100% Real"}
    assert await search("_") == {"a_b"}


async def test_stuck_uploads_are_the_pending_ones_untouched_for_too_long(db: Database) -> None:
    org = make_org()
    admin = make_user(org)
    old = make_video(admin, status=VideoStatus.PROCESSING, created_at=NOW - timedelta(hours=5), pending_key="u/1")
    older = make_video(admin, status=VideoStatus.PROCESSING, created_at=NOW - timedelta(hours=9), pending_key="u/2")
    fresh = make_video(admin, status=VideoStatus.PROCESSING, created_at=NOW, pending_key="u/3")
    settled = make_video(admin, created_at=NOW - timedelta(hours=9))
    await db.seed(org, admin, old, older, fresh, settled)
    async with db.uow() as uow:
        stuck = await uow.videos.stuck_processing(NOW - timedelta(hours=2), 10)
        first = await uow.videos.stuck_processing(NOW - timedelta(hours=2), 1)
    assert [v.id for v in stuck] == [older.id, old.id]
    assert [v.id for v in first] == [older.id]
