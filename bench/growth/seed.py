# ruff: noqa: S608 - the statements are built from the Size constants below, never from input
"""Seeding a size of data in a few set-based statements, and keeping it as a template database.

Ids are derived from row numbers (md5 of a label), so every statement can name the rows of the
others without reading them back. The large size takes a minute or two to seed and index; the
harness keeps it as a template database on the server, named after the schema head and the size,
and later runs copy it in seconds (CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

SEARCH_WORDS = 50  # titles and emails cycle through this many words: a search matches 1 row in 50
BUSY_USER_CREDITS = 10_000
LAPSING_PER_ORG = 1  # organizations with a paid subscription that has lapsed


@dataclass(frozen=True, slots=True, kw_only=True)
class Size:
    name: str
    organizations: int
    videos: int  # in all; the first organization holds half of them (all, when alone)
    users: int  # the same
    credits: int  # in all, in the first organization (one user holds BUSY_USER_CREDITS of them, or all)
    lapsing: int  # organizations (beyond the catalog's) whose paid subscription has lapsed

    @property
    def big_videos(self) -> int:
        return self.videos if self.organizations == 1 else self.videos // 2

    @property
    def big_users(self) -> int:
        return self.users if self.organizations == 1 else self.users // 2


SMALL = Size(name="small", organizations=1, videos=100, users=100, credits=1_000, lapsing=100)
LARGE = Size(name="large", organizations=100, videos=200_000, users=100_000, credits=2_000_000, lapsing=100_000)
QUICK_LARGE = Size(name="quick-large", organizations=20, videos=40_000, users=20_000, credits=200_000, lapsing=20_000)


def _id(label: str, number: str) -> str:
    return f"md5('{label}' || {number})::uuid"


def statements(size: Size) -> list[str]:
    """The seed of one size, in dependency order."""
    orgs, big_v, big_u = size.organizations, size.big_videos, size.big_users
    other_v = max(size.videos - big_v, 0) // max(orgs - 1, 1)
    other_u = max(size.users - big_u, 0) // max(orgs - 1, 1)
    busy = min(BUSY_USER_CREDITS, size.credits, big_v)
    spread = max(1, (size.credits - busy) // max(big_u - 1, 1))
    words = f"(ARRAY[{', '.join(repr(f'word{i:02}') for i in range(SEARCH_WORDS))}])"
    # A user's number within its organization and that organization's number, from its global number.
    user_org = f"CASE WHEN u < {big_u} THEN 0 ELSE 1 + (u - {big_u}) / {max(other_u, 1)} END"
    video_org = f"CASE WHEN v < {big_v} THEN 0 ELSE 1 + (v - {big_v}) / {max(other_v, 1)} END"

    def first_user(org: str) -> str:  # the organization's admin
        return f"CASE WHEN {org} = 0 THEN 0 ELSE {big_u} + ({org} - 1) * {max(other_u, 1)} END"

    lapsed_at = "now() - interval '1 day'"
    return [
        f"""INSERT INTO organizations (id, name, name_key, slug, created_at)
            SELECT {_id("org", "o")}, 'Org ' || o, 'org ' || o, 'org-' || o, now() - interval '400 days'
            FROM generate_series(0, {orgs - 1}) o""",
        f"""INSERT INTO users (id, organization_id, email, role, password_hash, points, created_at, deleted_at)
            SELECT {_id("user", "u")}, {_id("org", user_org)},
                   'user' || u || '.' || {words}[1 + u % {SEARCH_WORDS}] || '@example.com',
                   CASE WHEN u = {first_user(f"({user_org})")} THEN 'admin' ELSE 'member' END,
                   '$argon2id$bench', 0, now() - (u || ' seconds')::interval,
                   CASE WHEN u % 97 = 13 THEN now() ELSE NULL END
            FROM generate_series(0, {big_u + other_u * (orgs - 1) - 1}) u""",
        f"""INSERT INTO subscriptions (id, organization_id, plan_code, started_at, ends_at, ended_at)
            SELECT {_id("sub", "o")}, {_id("org", "o")}, 'TRIAL', now() - interval '400 days', NULL, NULL
            FROM generate_series(0, {orgs - 1}) o""",
        f"""INSERT INTO videos (id, organization_id, title, description, status, uploaded_by, created_at,
                               updated_at, size_bytes, content_type, deleted_at)
            SELECT {_id("video", "v")}, {_id("org", video_org)},
                   'Video ' || v || ' about ' || {words}[1 + v % {SEARCH_WORDS}], NULL,
                   CASE WHEN v % 50 = 7 THEN 'failed' WHEN v % 50 = 8 THEN 'processing' ELSE 'ready' END,
                   {_id("user", first_user(f"({video_org})"))},
                   now() - (v || ' seconds')::interval, now(), 1000000, 'video/mp4',
                   CASE WHEN v % 20 = 3 THEN now() - interval '1 day' ELSE NULL END
            FROM generate_series(0, {big_v + other_v * (orgs - 1) - 1}) v""",
        # The busy user (the big organization's first member) watched the newest `busy` videos; the
        # others spread the rest over distinct videos of the same organization.
        f"""INSERT INTO view_credits (id, organization_id, user_id, video_id, points, awarded_at)
            SELECT {_id("credit", "c")}, {_id("org", "0")},
                   {_id("user", f"CASE WHEN c < {busy} THEN 1 ELSE 2 + (c - {busy}) / {spread} END")},
                   {_id("video", f"CASE WHEN c < {busy} THEN c ELSE (c - {busy}) % {spread} END")},
                   10, now() - (c || ' seconds')::interval
            FROM generate_series(0, {busy + spread * max(big_u - 2, 0) - 1}) c
            WHERE c < {size.credits}""",
        "UPDATE users SET points = t.points FROM (SELECT user_id, sum(points) AS points FROM view_credits "
        "GROUP BY user_id) t WHERE users.id = t.user_id",
        *lapsing_statements(size.lapsing, lapsed_at),
        "ANALYZE",
    ]


def lapsing_statements(count: int, ends_at: str) -> list[str]:
    """`count` organizations of their own, each on a PAID subscription that ended at `ends_at`."""
    if count == 0:
        return []
    return [
        f"""INSERT INTO organizations (id, name, name_key, slug, created_at)
            SELECT {_id("lapsing-org", "o")}, 'Lapsing ' || o, 'lapsing ' || o, 'lapsing-' || o,
                   now() - interval '30 days'
            FROM generate_series(0, {count - 1}) o""",
        f"""INSERT INTO subscriptions (id, organization_id, plan_code, started_at, ends_at, ended_at)
            SELECT {_id("lapsing-sub", "o")}, {_id("lapsing-org", "o")}, 'PAID',
                   {ends_at} - interval '15 days', {ends_at}, NULL
            FROM generate_series(0, {count - 1}) o""",
    ]


async def seed(dsn: str, size: Size) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        for statement in statements(size):
            await conn.execute(statement)
    finally:
        await conn.close()
