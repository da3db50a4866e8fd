"""Insights use cases on the real unit of work, SQLite and PostgreSQL: viewers of a video, the leaderboard."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from uuid import UUID

import pytest

from tests.integration.sql_fixtures import NOW, Database, make_credit, make_org, make_user, make_video
from vidplat.domain.accounts.model import Principal, Role, User
from vidplat.domain.errors import AdminRequired, VideoNotFound
from vidplat.domain.pagination import PageRequest
from vidplat.domain.rewards.insights import Leaderboard, VideoViewers


def _principal(user: User) -> Principal:
    return Principal(user_id=user.id, organization_id=user.organization_id, role=user.role)


async def _give_points(db: Database, points: dict[UUID, int]) -> None:
    async with db.uow() as uow:
        await uow.users.add_points(Counter(points))
        await uow.commit()


async def test_viewers_are_the_active_users_credited_for_the_video_newest_first_paged(db: Database) -> None:
    org, other_org = make_org(), make_org()
    admin = make_user(org, role=Role.ADMIN)
    first, second, third = make_user(org), make_user(org), make_user(org)
    gone = make_user(org, deleted_at=NOW)
    video, elsewhere = make_video(admin), make_video(admin)
    await db.seed(org, other_org, admin, first, second, third, gone, video, elsewhere)
    await db.seed(
        make_credit(first, video.id, awarded_at=NOW),
        make_credit(second, video.id, awarded_at=NOW + timedelta(minutes=2)),
        make_credit(third, video.id, awarded_at=NOW + timedelta(minutes=1)),
        make_credit(gone, video.id, awarded_at=NOW + timedelta(minutes=3)),
        make_credit(first, elsewhere.id, awarded_at=NOW + timedelta(minutes=4)),
    )
    viewers = VideoViewers(db.uow)

    page = await viewers(_principal(admin), video.id, PageRequest(limit=2))
    rest = await viewers(_principal(admin), video.id, PageRequest(limit=2, offset=2))

    assert [v.user_id for v in page.items] == [second.id, third.id]
    assert [v.user_id for v in rest.items] == [first.id]
    assert (page.total, rest.total) == (3, 3)
    assert page.items[0].email == second.email
    assert page.items[0].points == 10
    assert page.items[0].awarded_at == NOW + timedelta(minutes=2)


async def test_viewers_of_another_organizations_video_are_not_found_and_members_are_refused(db: Database) -> None:
    org, other_org = make_org(), make_org()
    admin, member, intruder = make_user(org, role=Role.ADMIN), make_user(org), make_user(other_org, role=Role.ADMIN)
    video = make_video(admin)
    await db.seed(org, other_org, admin, member, intruder, video, make_credit(member, video.id))
    viewers = VideoViewers(db.uow)

    with pytest.raises(VideoNotFound):
        await viewers(_principal(intruder), video.id, PageRequest())
    with pytest.raises(AdminRequired):
        await viewers(_principal(member), video.id, PageRequest())


async def test_the_leaderboard_ranks_active_users_by_points_with_ties_in_id_order(db: Database) -> None:
    org, other_org = make_org(), make_org()
    users = [make_user(org) for _ in range(5)]
    gone, outsider = make_user(org, deleted_at=NOW), make_user(other_org)
    await db.seed(org, other_org, *users, gone, outsider)
    points = {users[0].id: 10, users[1].id: 30, users[2].id: 10, users[3].id: 30}
    await _give_points(db, {**points, gone.id: 100, outsider.id: 50})
    leaderboard = Leaderboard(db.uow)
    member = _principal(users[4])  # any user may look, points or not

    pages = [await leaderboard(member, PageRequest(limit=2, offset=offset)) for offset in (0, 2, 4)]

    ranked = [standing for page in pages for standing in page.items]
    expected = sorted(users, key=lambda u: (-points.get(u.id, 0), u.id))  # UUIDs order as their bytes do
    assert [s.user_id for s in ranked] == [u.id for u in expected]
    assert [s.points for s in ranked] == [30, 30, 10, 10, 0]
    assert {page.total for page in pages} == {5}
    assert ranked[0].email in {users[1].email, users[3].email}
