"""Another organization's users and videos do not exist for you: 404 on every id route, never 403."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import Account, Api, Json, assert_problem


async def two_tenants(api: Api) -> tuple[Account, Account, Account, Json, Json]:
    """Acme (admin, member, a ready and a trashed video) and Globex's admin, on PAID so restore is allowed."""
    acme = await api.signup()
    member = await api.create_member(acme)
    video = await api.upload_ready(acme, title="Acme secret")
    trashed = await api.upload_ready(acme, api.mp4(width=96, height=64), title="Acme trash")
    assert (await api.client.delete(f"/api/v1/videos/{trashed['id']}", headers=acme.auth)).status_code == 204
    globex = await api.signup()
    await api.subscribe(globex)
    return acme, member, globex, video, trashed


async def test_another_organizations_users_are_not_found(api: Api) -> None:
    acme, member, globex, _, _ = await two_tenants(api)

    for user_id in (acme.user_id, member.user_id):
        url = f"/api/v1/users/{user_id}"
        assert_problem(await api.client.get(url, headers=globex.auth), 404, "user_not_found")
        assert_problem(await api.client.patch(url, json={"role": "admin"}, headers=globex.auth), 404, "user_not_found")
        assert_problem(
            await api.client.patch(url, json={"password": "taken over!"}, headers=globex.auth), 404, "user_not_found"
        )
        assert_problem(await api.client.delete(url, headers=globex.auth), 404, "user_not_found")

    # Nothing changed for Acme.
    assert (await api.login(acme.org_slug, member.email, member.password)).status_code == 200
    me = (await api.client.get("/api/v1/users/me", headers=member.auth)).json()
    assert me["role"] == "member"


async def test_another_organizations_videos_are_not_found_on_every_route(api: Api) -> None:
    acme, _, globex, video, trashed = await two_tenants(api)
    base = f"/api/v1/videos/{video['id']}"
    calls: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", base, {}),
        ("PATCH", base, {"json": {"title": "Hijacked"}}),
        ("PATCH", base, {"files": {"file": ("x.mp4", api.mp4(), "video/mp4")}}),
        ("GET", f"{base}/stream", {}),
        ("HEAD", f"{base}/stream", {}),
        ("POST", f"{base}/playback", {}),
        ("GET", f"{base}/thumbnail", {}),
        ("POST", f"/api/v1/videos/{trashed['id']}/restore", {}),
        ("DELETE", base, {}),
    ]

    for method, url, body in calls:
        response = await api.client.request(method, url, headers=globex.auth, **body)

        assert response.status_code == 404, (method, url, response.status_code)
        if method != "HEAD":
            assert_problem(response, 404, "video_not_found")

    unchanged = (await api.client.get(base, headers=acme.auth)).json()
    assert (unchanged["title"], unchanged["deleted_at"], unchanged["size_bytes"]) == (
        "Acme secret",
        None,
        video["size_bytes"],
    )
    still_trashed = (await api.client.get("/api/v1/videos/deleted", headers=acme.auth)).json()
    assert [v["id"] for v in still_trashed["items"]] == [trashed["id"]]


async def test_listings_show_only_the_callers_organization(api: Api) -> None:
    acme, _, globex, _, _ = await two_tenants(api)

    videos = (await api.client.get("/api/v1/videos", headers=globex.auth)).json()
    trash = (await api.client.get("/api/v1/videos/deleted", headers=globex.auth)).json()
    users = (await api.client.get("/api/v1/users", headers=globex.auth)).json()

    assert (videos["total"], videos["items"]) == (0, [])
    assert (trash["total"], trash["items"]) == (0, [])
    assert [u["id"] for u in users["items"]] == [globex.user_id]
    assert acme.org_id != globex.org_id


async def test_a_playback_token_cannot_be_used_after_its_user_is_deleted(api: Api) -> None:
    acme, member, _, video, _ = await two_tenants(api)
    grant = (await api.client.post(f"/api/v1/videos/{video['id']}/playback", headers=member.auth)).json()

    assert (await api.client.delete(f"/api/v1/users/{member.user_id}", headers=acme.auth)).status_code == 204

    assert_problem(await api.client.get(grant["url"]), 401, None)
