"""Organization names unique by their folded form (NFKC + casefold), not by lower(): `Straße` is `STRASSE`.

Existing rows are backfilled with the key the domain computes; where two existing names fold to
the same key, the older keeps it and the others get their id appended, so the upgrade never fails
and no name changes.

Revision ID: 5d2f8c1e7a94
Revises: a6c1b3e89782
Create Date: 2026-12-01 22:15:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from vidplat.domain.accounts.model import org_name_key

revision = "5d2f8c1e7a94"
down_revision = "a6c1b3e89782"
branch_labels = None
depends_on = None

organizations = sa.table(
    "organizations",
    sa.column("id", GUID(length=16)),
    sa.column("name", sa.String()),
    sa.column("created_at", DateTimeUTC(timezone=True)),
    sa.column("name_key", sa.String()),
)


def upgrade() -> None:
    op.add_column("organizations", sa.Column("name_key", sa.String(length=400), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(organizations.c.id, organizations.c.name).order_by(organizations.c.created_at, organizations.c.id)
    ).all()
    taken: set[str] = set()
    for row_id, name in rows:
        key = org_name_key(name)
        if key in taken:
            key = f"{key} ({row_id})"
        taken.add(key)
        connection.execute(organizations.update().where(organizations.c.id == row_id).values(name_key=key))
    op.drop_index("uq_organizations_name", table_name="organizations")
    with op.batch_alter_table("organizations") as batch:
        batch.alter_column("name_key", existing_type=sa.String(length=400), nullable=False)
        batch.create_unique_constraint("uq_organizations_name", ["name_key"])


def downgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.drop_constraint("uq_organizations_name", type_="unique")
        batch.drop_column("name_key")
    op.create_index("uq_organizations_name", "organizations", [sa.text("lower(name)")], unique=True)
