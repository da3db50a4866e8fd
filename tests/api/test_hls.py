"""HLS delivery over the wired app: playlists that carry a view token, segments with validators and
ranges, tokens that last a view but not longer, tenancy, and one credit per (user, video)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urljoin, urlsplit
from uuid import UUID

import httpx
import m3u8  # type: ignore[import-untyped]
import pytest

from tests.api.helpers import Account, Api, Json, assert_problem
from tests.hls import forget_renditions
from vidplat.domain.ports import StoredObject
from vidplat.domain.videos.delivery import SEGMENT_GRACE

PLAYBACK_TTL = timedelta(seconds=300)  # VIDPLAT_PLAYBACK_URL_TTL_SECONDS's default
MPEGURL = "application/vnd.apple.mpegurl"


async def hls_video(api: Api, admin: Account | None = None) -> tuple[Account, Json]:
    """A ready 3-second 640x360 upload, processed into two renditions (240p, 360p) of two segments each."""
    admin = admin or await api.signup()
    video = await api.upload_ready(admin, api.mp4(seconds=3.0, width=640, height=360))
    assert [r["name"] for r in video["renditions"]] == ["240p", "360p"]
    return admin, video


async def grant(api: Api, account: Account, video_id: str) -> Json:
    response = await api.client.post(f"/api/v1/videos/{video_id}/playback", headers=account.auth)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def token_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["token"][0]


async def fetch(api: Api, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return await api.client.get(url, headers=headers or {}, follow_redirects=False)


async def walk(api: Api, master_url: str) -> dict[str, str]:
    """Every URI the master and its variant playlists name, resolved; fetched with no headers. {kind: url}."""
    master = await fetch(api, master_url)
    assert master.status_code == 200, master.text
    found: dict[str, str] = {}
    for variant in m3u8.loads(master.text).playlists:
        variant_url = urljoin(master_url, variant.uri)
        found.setdefault("variant", variant_url)
        playlist = m3u8.loads((await fetch(api, variant_url)).text)
        found.setdefault("init", urljoin(variant_url, playlist.segment_map[0].uri))
        found.setdefault("segment", urljoin(variant_url, playlist.segments[0].uri))
    return found


async def test_the_master_playlist_lists_every_rendition_with_bandwidth_resolution_and_codecs(api: Api) -> None:
    admin, video = await hls_video(api)

    response = await api.client.get(f"/api/v1/videos/{video['id']}/hls/master.m3u8", headers=admin.auth)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(MPEGURL)
    assert response.headers["cache-control"] == "private, no-store"
    master = m3u8.loads(response.text)
    assert [p.uri for p in master.playlists] == ["240p/index.m3u8", "360p/index.m3u8"]  # bearer: nothing to carry
    for playlist, rendition in zip(master.playlists, video["renditions"], strict=True):
        info = playlist.stream_info
        assert (info.bandwidth, info.resolution) == (rendition["bandwidth"], (rendition["width"], rendition["height"]))
        assert re.fullmatch(r"avc1\.[0-9a-f]{6}", info.codecs)


async def test_a_player_without_headers_follows_the_hls_url_through_playlists_carrying_one_view_token(
    api: Api,
) -> None:
    admin, video = await hls_video(api)
    member = await api.create_member(admin)
    urls = await grant(api, member, video["id"])
    assert urls["hls_url"] == f"/api/v1/videos/{video['id']}/hls/master.m3u8?token={token_of(urls['hls_url'])}"

    found = await walk(api, urls["hls_url"])

    view = token_of(found["variant"])
    assert view != token_of(urls["hls_url"])  # the start token was exchanged for a view token
    assert token_of(found["init"]) == token_of(found["segment"]) == view  # and carried on as it is
    variant = await fetch(api, found["variant"])
    assert variant.headers["content-type"].startswith(MPEGURL)
    assert "#EXT-X-PLAYLIST-TYPE:VOD" in variant.text
    init = await fetch(api, found["init"])
    assert (init.status_code, init.headers["content-type"]) == (200, "video/mp4")
    assert init.content[4:8] == b"ftyp"
    segment = await fetch(api, found["segment"])
    assert segment.status_code == 200
    assert segment.headers["cache-control"] == "private, max-age=0, must-revalidate"
    assert segment.headers["accept-ranges"] == "bytes"
    assert segment.headers["content-length"] == str(len(segment.content))
    ranged = await fetch(api, found["segment"], {"Range": "bytes=4-11"})
    assert (ranged.status_code, ranged.content) == (206, segment.content[4:12])
    assert ranged.headers["content-range"] == f"bytes 4-11/{len(segment.content)}"
    etag = segment.headers["etag"]
    assert (await fetch(api, found["segment"], {"If-None-Match": etag})).status_code == 304
    head = await api.client.head(found["segment"])
    assert (head.status_code, head.content, head.headers["etag"]) == (200, b"", etag)
    assert head.headers["content-length"] == str(len(segment.content))
    assert etag != init.headers["etag"]


async def test_a_view_outlasts_the_ttl_by_the_video_plus_the_grace_and_no_longer(api: Api) -> None:
    admin, video = await hls_video(api)
    urls = await grant(api, admin, video["id"])
    found = await walk(api, urls["hls_url"])

    api.clock.advance(PLAYBACK_TTL + timedelta(minutes=10))  # paused long past the TTL

    assert_problem(await fetch(api, urls["hls_url"]), 401, "invalid_token")  # too late to start
    assert_problem(await fetch(api, urls["thumbnail_url"]), 401, "invalid_token")
    for kind in ("variant", "init", "segment"):  # but the view goes on: a seek, a level switch
        assert (await fetch(api, found[kind])).status_code == 200, kind

    view = timedelta(seconds=video["duration_seconds"]) + SEGMENT_GRACE
    api.clock.advance(view - PLAYBACK_TTL - timedelta(minutes=10) + timedelta(seconds=1))
    for kind in ("variant", "init", "segment"):
        assert_problem(await fetch(api, found[kind]), 401, "invalid_token")


async def test_a_view_token_opens_the_master_but_is_carried_on_never_renewed(api: Api) -> None:
    admin, video = await hls_video(api)
    urls = await grant(api, admin, video["id"])
    view = token_of((await walk(api, urls["hls_url"]))["variant"])

    api.clock.advance(timedelta(minutes=20))
    again = await fetch(api, f"/api/v1/videos/{video['id']}/hls/master.m3u8?token={view}")

    assert again.status_code == 200
    assert {token_of(p.uri) for p in m3u8.loads(again.text).playlists} == {view}
    # The progressive url's token is a view token too: it opens the HLS, and is carried on as it is.
    progressive = token_of(urls["url"])
    by_url = await fetch(api, f"/api/v1/videos/{video['id']}/hls/master.m3u8?token={progressive}")
    assert {token_of(p.uri) for p in m3u8.loads(by_url.text).playlists} == {progressive}


async def test_every_token_of_a_view_dies_with_its_session(api: Api) -> None:
    admin, video = await hls_video(api)
    member = await api.create_member(admin)
    found = await walk(api, (await grant(api, member, video["id"]))["hls_url"])

    assert (await api.client.post("/api/v1/auth/logout", headers=member.auth)).status_code == 204

    for kind in ("variant", "init", "segment"):
        assert_problem(await fetch(api, found[kind]), 401, "invalid_token")


async def test_the_storyboard_track_points_into_the_sprite_with_the_view_token(api: Api) -> None:
    admin, video = await hls_video(api)
    urls = await grant(api, admin, video["id"])
    track_url = f"/api/v1/videos/{video['id']}/storyboard.vtt?token={token_of(urls['hls_url'])}"

    track = await fetch(api, track_url)

    assert track.status_code == 200
    assert track.headers["content-type"].startswith("text/vtt")
    assert track.text.startswith("WEBVTT")
    cues = [line for line in track.text.splitlines() if "#xywh=" in line]
    assert cues
    assert all(re.fullmatch(r"storyboard\.jpg\?token=[^#&]+#xywh=\d+,\d+,\d+,\d+", cue) for cue in cues)
    assert token_of(cues[0].partition("#")[0]) != token_of(urls["hls_url"])  # a view token: hovering is later
    sprite = await fetch(api, urljoin(track_url, cues[0]))
    assert (sprite.status_code, sprite.headers["content-type"]) == (200, "image/jpeg")
    assert sprite.content.startswith(b"\xff\xd8")
    by_bearer = await api.client.get(f"/api/v1/videos/{video['id']}/storyboard.vtt", headers=admin.auth)
    assert "storyboard.jpg#xywh=" in by_bearer.text  # nothing to carry


async def test_the_thumbnail_url_works_without_headers(api: Api) -> None:
    admin, video = await hls_video(api)
    urls = await grant(api, admin, video["id"])

    response = await fetch(api, urls["thumbnail_url"])

    assert (response.status_code, response.headers["content-type"]) == (200, "image/jpeg")


async def test_playlists_and_init_segments_do_not_credit_the_first_media_segment_does_once_with_the_stream(
    api: Api,
) -> None:
    admin, video = await hls_video(api)
    member = await api.create_member(admin)
    urls = await grant(api, member, video["id"])
    found = await walk(api, urls["hls_url"])
    assert (await fetch(api, found["init"])).status_code == 200
    assert (await api.points(member))["total"] == 0

    for _ in range(3):
        assert (await fetch(api, found["segment"])).status_code == 200
    assert (await fetch(api, urls["url"], {"Range": "bytes=0-99"})).status_code == 206  # and progressively
    assert (await api.stream(member, video["id"], {"Range": "bytes=0-9"})).status_code == 206

    statement = await api.points(member)
    assert statement["total"] == 10
    assert [item["video_id"] for item in statement["items"]] == [video["id"]]


async def test_a_segment_asked_for_again_costs_the_store_no_head(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    admin, video = await hls_video(api)
    found = await walk(api, (await grant(api, admin, video["id"]))["hls_url"])
    heads: list[str] = []
    head = api.storage.head

    async def counted(key: str) -> StoredObject:
        heads.append(key)
        return await head(key)

    monkeypatch.setattr(api.storage, "head", counted)
    for span in ("bytes=0-9", "bytes=10-19", "bytes=0-9"):
        response = await fetch(api, found["segment"], {"Range": span})
        assert response.status_code == 206
        assert response.headers["content-range"].startswith(f"bytes {span[6:]}/")

    assert len(heads) == 1


async def test_a_video_without_renditions_answers_video_not_ready(api: Api) -> None:
    admin = await api.signup()
    video = await api.upload_ready(admin)
    await api.run(lambda: forget_renditions(api.container.use_cases.get_video.uow, UUID(video["id"])))
    base = f"/api/v1/videos/{video['id']}"  # ready, as if processed before HLS existed

    for path in ("hls/master.m3u8", "hls/240p/index.m3u8", "hls/240p/init.mp4", "hls/240p/seg_00000.m4s"):
        body = assert_problem(await api.client.get(f"{base}/{path}", headers=admin.auth), 404, "video_not_ready")
        assert "url" in body["detail"]
    for path in ("storyboard.vtt", "storyboard.jpg"):
        assert_problem(await api.client.get(f"{base}/{path}", headers=admin.auth), 404, "video_not_ready")
    assert (await grant(api, admin, video["id"]))["hls_url"]  # the progressive url still plays


async def test_a_name_outside_the_transcoders_layout_is_not_found(api: Api) -> None:
    admin, video = await hls_video(api)
    base = f"/api/v1/videos/{video['id']}"
    refused = [
        "hls/720p/index.m3u8",  # not a rendition of this video
        "hls/240p/seg_1.m4s",
        "hls/240p/seg_00099.m4s",  # the right shape, but no such segment
        "hls/240p/master.m3u8",
        "hls/abc/index.m3u8",
        "hls/240p/index.m3u8.bak",
    ]
    for path in refused:
        assert_problem(await api.client.get(f"{base}/{path}", headers=admin.auth), 404, "hls_file_not_found")
    for path in ("hls/240p/..%2F..%2Fmaster.m3u8", "hls/..%2F240p/init.mp4", "hls/240p/x/init.mp4"):
        assert_problem(await api.client.get(f"{base}/{path}", headers=admin.auth), 404, None)  # no route at all


async def test_another_organizations_hls_is_not_found_and_a_token_opens_only_its_own_video(api: Api) -> None:
    admin, video = await hls_video(api)
    other = await api.upload_ready(admin, api.mp4(seconds=1.0, width=96, height=64), title="Other")
    urls = await grant(api, admin, video["id"])
    found = await walk(api, urls["hls_url"])
    stranger = await api.signup()
    base = f"/api/v1/videos/{video['id']}"

    for path in ("hls/master.m3u8", "hls/240p/index.m3u8", "hls/240p/init.mp4", "hls/240p/seg_00000.m4s"):
        assert_problem(await api.client.get(f"{base}/{path}", headers=stranger.auth), 404, "video_not_found")
    for path in ("storyboard.vtt", "storyboard.jpg"):
        assert_problem(await api.client.get(f"{base}/{path}", headers=stranger.auth), 404, "video_not_found")
    for url in (found["segment"], urls["hls_url"]):
        moved = url.replace(video["id"], other["id"])
        assert_problem(await fetch(api, moved), 401, "invalid_token")


@pytest.mark.s3_only
@pytest.mark.api_settings(VIDPLAT_STREAM_DELIVERY="redirect")
async def test_redirect_delivery_sends_segments_to_presigned_urls_and_serves_playlists_itself(api: Api) -> None:
    admin, video = await hls_video(api)
    member = await api.create_member(admin)
    found = await walk(api, (await grant(api, member, video["id"]))["hls_url"])  # the playlists: 200, rewritten

    for kind in ("init", "segment"):
        response = await fetch(api, found[kind], {"Range": "bytes=0-7"})
        assert response.status_code == 307, kind
        assert response.headers["cache-control"] == "private, max-age=0, must-revalidate"
        location = response.headers["location"]
        assert "X-Amz-Signature=" in location
        async with httpx.AsyncClient() as store:
            ranged = await store.get(location, headers={"Range": "bytes=0-7"})
            whole = await store.get(location)
        assert ranged.status_code == 206
        assert ranged.content == whole.content[:8]
        assert len(whole.content) > 8
    assert (await api.points(member))["total"] == 10  # the segment credited before handing over
