"""Insights over HTTP: a video's viewers for admins, the organization's leaderboard for everyone."""

from __future__ import annotations

from datetime import timedelta

from tests.api.helpers import Api, assert_problem


async def test_an_admin_sees_who_was_credited_for_a_video_newest_first(api: Api) -> None:
    admin = await api.signup()
    video = await api.upload_ready(admin)
    first, second = await api.create_member(admin), await api.create_member(admin)
    for member in (first, second):
        assert (await api.stream(member, video["id"], {"Range": "bytes=0-9"})).status_code == 206
        await api.settled()  # the credit commits beside the response
        api.clock.advance(timedelta(minutes=1))

    response = await api.client.get(f"/api/v1/videos/{video['id']}/viewers", headers=admin.auth)
    one = await api.client.get(f"/api/v1/videos/{video['id']}/viewers?limit=1&offset=1", headers=admin.auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("total", "limit", "offset")} == {"total": 2, "limit": 20, "offset": 0}
    assert [(v["user_id"], v["email"], v["points"]) for v in body["items"]] == [
        (second.user_id, second.email, 10),
        (first.user_id, first.email, 10),
    ]
    assert set(body["items"][0]) == {"user_id", "email", "points", "awarded_at"}
    assert body["items"][0]["awarded_at"] > body["items"][1]["awarded_at"]
    assert [v["user_id"] for v in one.json()["items"]] == [first.user_id]


async def test_viewers_are_for_admins_of_the_videos_organization_only(api: Api) -> None:
    admin = await api.signup()
    video = await api.upload_ready(admin)
    member, intruder = await api.create_member(admin), await api.signup()

    as_member = await api.client.get(f"/api/v1/videos/{video['id']}/viewers", headers=member.auth)
    as_intruder = await api.client.get(f"/api/v1/videos/{video['id']}/viewers", headers=intruder.auth)
    bad_limit = await api.client.get(f"/api/v1/videos/{video['id']}/viewers?limit=0", headers=admin.auth)

    assert_problem(as_member, 403, "admin_required")
    assert_problem(as_intruder, 404, "video_not_found")
    assert_problem(bad_limit, 422, None)


async def test_every_user_sees_the_organizations_leaderboard_highest_first(api: Api) -> None:
    admin = await api.signup()
    videos = [await api.upload_ready(admin, title=f"Clip {n}") for n in range(2)]
    keen, casual = await api.create_member(admin), await api.create_member(admin)
    outsider = await api.signup()
    for member, watched in ((keen, videos), (casual, videos[:1])):
        for video in watched:
            assert (await api.stream(member, video["id"], {"Range": "bytes=0-9"})).status_code == 206
            await api.settled()  # the credit commits beside the response

    response = await api.client.get("/api/v1/organizations/me/leaderboard", headers=casual.auth)
    theirs = await api.client.get("/api/v1/organizations/me/leaderboard", headers=outsider.auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 3
    assert [(s["user_id"], s["email"], s["points"]) for s in body["items"]] == [
        (keen.user_id, keen.email, 20),
        (casual.user_id, casual.email, 10),
        (admin.user_id, admin.email, 0),
    ]
    assert [s["user_id"] for s in theirs.json()["items"]] == [outsider.user_id]
