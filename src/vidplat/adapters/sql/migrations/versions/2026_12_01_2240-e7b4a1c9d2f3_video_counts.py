# ruff: noqa: S608 - the trigger SQL is built from the constant column names below, never from input
"""Video totals kept per organization by triggers: a catalog's total is one row, not a count(*).

Every insert, delete, and change of status or trash of a video moves its organization's counts in
the same transaction, whichever code path writes it; the upgrade backfills them from the videos.

Revision ID: e7b4a1c9d2f3
Revises: c3f1d2a9b7e4
Create Date: 2026-12-01 22:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision = "e7b4a1c9d2f3"
down_revision = "c3f1d2a9b7e4"
branch_labels = None
depends_on = None

COUNTS = ("processing", "ready", "failed")  # live videos by status; `trashed` counts the rest


def _is(row: str, status: str | None) -> str:
    """1 when the video `row` counts in the column for `status` (None: the trash), else 0."""
    if status is None:
        return f"CASE WHEN {row}.deleted_at IS NULL THEN 0 ELSE 1 END"
    return f"CASE WHEN {row}.deleted_at IS NULL AND {row}.status = '{status}' THEN 1 ELSE 0 END"


def _deltas(row: str, sign: str) -> str:
    """The SET list adding (sign +) or taking away (sign -) the video `row` (NEW or OLD)."""
    pairs = zip([*COUNTS, "trashed"], [*COUNTS, None], strict=True)
    return ", ".join(f"{column} = {column} {sign} {_is(row, status)}" for column, status in pairs)


def _add(row: str) -> list[str]:
    return [
        f"INSERT INTO video_counts (organization_id) VALUES ({row}.organization_id) ON CONFLICT DO NOTHING",
        f"UPDATE video_counts SET {_deltas(row, '+')} WHERE organization_id = {row}.organization_id",
    ]


def _take(row: str) -> list[str]:
    return [f"UPDATE video_counts SET {_deltas(row, '-')} WHERE organization_id = {row}.organization_id"]


# Only the columns the counts depend on move them.
CHANGED = "OLD.status <> NEW.status OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)"
# SQLite: a trigger per row (it updates rows in place).
SQLITE_TRIGGERS = {
    "video_counts_insert": ("AFTER INSERT ON videos", _add("NEW")),
    "video_counts_delete": ("AFTER DELETE ON videos", _take("OLD")),
    "video_counts_update": (f"AFTER UPDATE ON videos WHEN {CHANGED}", [*_take("OLD"), *_add("NEW")]),
}


def _upsert(delta: Callable[[str | None], str], source: str, organization: str) -> str:
    """Add each organization's summed `delta(status)` over the `source` rows to its counts."""
    columns = [*COUNTS, "trashed"]
    sums = ", ".join(f"sum({delta(status)})" for status in [*COUNTS, None])
    added = ", ".join(f"{c} = video_counts.{c} + EXCLUDED.{c}" for c in columns)
    return (
        f"INSERT INTO video_counts (organization_id, {', '.join(columns)}) "
        f"SELECT {organization}, {sums} FROM {source} GROUP BY {organization} "
        f"ON CONFLICT (organization_id) DO UPDATE SET {added}"
    )


# PostgreSQL: a trigger per statement over its transition tables, so a statement that writes many
# videos (a bulk purge, a seed) moves each organization's row once rather than once per video (each
# update of a row already updated in the transaction walks the chain of its versions again).
POSTGRES_STATEMENTS = {
    "INSERT": _upsert(lambda s: _is("n", s), "new_rows n", "n.organization_id"),
    "DELETE": _upsert(lambda s: f"-{_is('o', s)}", "old_rows o", "o.organization_id"),
    # Only the videos whose counted state changed: an edit or a progress update locks no counts.
    "UPDATE": _upsert(
        lambda s: f"{_is('n', s)} - {_is('o', s)}",
        f"old_rows o JOIN new_rows n ON n.id = o.id WHERE {CHANGED.replace('OLD.', 'o.').replace('NEW.', 'n.')}",
        "n.organization_id",
    ),
}
POSTGRES_FUNCTION = f"""
CREATE FUNCTION video_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {POSTGRES_STATEMENTS["INSERT"]};
    ELSIF TG_OP = 'DELETE' THEN
        {POSTGRES_STATEMENTS["DELETE"]};
    ELSE
        {POSTGRES_STATEMENTS["UPDATE"]};
    END IF;
    RETURN NULL;
END $$
"""
POSTGRES_TRIGGERS = {
    "video_counts_insert": "AFTER INSERT ON videos REFERENCING NEW TABLE AS new_rows",
    "video_counts_delete": "AFTER DELETE ON videos REFERENCING OLD TABLE AS old_rows",
    "video_counts_update": "AFTER UPDATE ON videos REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def upgrade() -> None:
    zero = sa.text("0")
    op.create_table(
        "video_counts",
        sa.Column("organization_id", GUID(length=16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), server_default=zero, nullable=False) for name in (*COUNTS, "trashed")),
        sa.ForeignKeyConstraint(
            ["organization_id"], ["organizations.id"], name=op.f("fk_video_counts_organization_id_organizations")
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_video_counts")),
    )
    live = [f"sum(CASE WHEN deleted_at IS NULL AND status = '{s}' THEN 1 ELSE 0 END)" for s in COUNTS]
    op.execute(
        f"INSERT INTO video_counts (organization_id, {', '.join(COUNTS)}, trashed) "
        f"SELECT organization_id, {', '.join(live)}, sum(CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END) "
        "FROM videos GROUP BY organization_id"
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        for name, when in POSTGRES_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION video_counts_apply()")
    else:
        for name, (when, body) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(body)}; END")


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for name in POSTGRES_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON videos")
        op.execute("DROP FUNCTION video_counts_apply()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("video_counts")
