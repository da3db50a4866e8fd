"""Insights from the points ledger: a video's viewers (admins) and the organization's leaderboard."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath
from msgspec import Struct

from vidplat.domain.rewards.model import Standing, Viewer
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Limit, Offset, Uc, page
from vidplat.entrypoints.http.security import admin_only


class ViewerOut(Struct):
    user_id: UUID
    email: str
    points: int
    awarded_at: datetime

    @classmethod
    def of(cls, v: Viewer) -> ViewerOut:
        return cls(v.user_id, v.email, v.points, v.awarded_at)


class ViewerPage(Struct):
    items: list[ViewerOut]
    total: int
    limit: int
    offset: int


class StandingOut(Struct):
    user_id: UUID
    email: str
    points: int

    @classmethod
    def of(cls, s: Standing) -> StandingOut:
        return cls(s.user_id, s.email, s.points)


class LeaderboardPage(Struct):
    items: list[StandingOut]
    total: int
    limit: int
    offset: int


class InsightsController(Controller):
    path = "/api/v1"
    tags = ["insights"]

    @get(
        "/videos/{video_id:uuid}/viewers",
        guards=[admin_only],
        responses=problems(401, 403, 404, 422),
        summary="Who was credited for the video, newest first",
        description="Active users only. Another organization's video is 404.",
    )
    async def viewers(
        self, video_id: FromPath[UUID], uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0
    ) -> ViewerPage:
        found = await uc.video_viewers(principal, video_id, page(limit, offset))
        return ViewerPage([ViewerOut.of(v) for v in found.items], found.total, found.limit, found.offset)

    @get(
        "/organizations/me/leaderboard",
        responses=problems(401, 422),
        summary="The organization's active users by points, highest first",
        description="Equal totals are ordered by user id, so pages never overlap or skip anyone.",
    )
    async def leaderboard(self, uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0) -> LeaderboardPage:
        found = await uc.leaderboard(principal, page(limit, offset))
        return LeaderboardPage([StandingOut.of(s) for s in found.items], found.total, found.limit, found.offset)
