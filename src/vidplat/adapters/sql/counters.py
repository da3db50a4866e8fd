# ruff: noqa: S608 - the trigger SQL is built from the migrations' constant names, never from input
"""Per-organization counts kept by triggers, for the migrations that create them: a total is one row.

Every insert, delete, and change of a counted condition moves the organization's counts in the
same transaction, whichever code path writes the rows. A row's organization never changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alembic import op


@dataclass(frozen=True, slots=True)
class Counts:
    table: str  # the counted rows, with `id` and `organization_id` columns
    counts: str  # one row per organization: `organization_id` and a BIGINT per column below
    columns: Mapping[str, str]  # count column -> the condition, on the row named {row}, to count in it

    def create(self) -> None:
        """Backfill the counts from the rows, then the triggers that keep them."""
        columns = ", ".join(self.columns)
        sums = ", ".join(f"sum({self._is(self.table, column)})" for column in self.columns)
        op.execute(
            f"INSERT INTO {self.counts} (organization_id, {columns}) "
            f"SELECT organization_id, {sums} FROM {self.table} GROUP BY organization_id"
        )
        if op.get_context().dialect.name == "postgresql":
            op.execute(self._postgres_function())
            for name, when in self._postgres_triggers().items():
                op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {self.counts}_apply()")
        else:
            for name, (when, body) in self._sqlite_triggers().items():
                op.execute(f"CREATE TRIGGER {name} {when} BEGIN {'; '.join(body)}; END")

    def drop(self) -> None:
        if op.get_context().dialect.name == "postgresql":
            for name in self._postgres_triggers():
                op.execute(f"DROP TRIGGER {name} ON {self.table}")
            op.execute(f"DROP FUNCTION {self.counts}_apply()")
        else:
            for name in self._sqlite_triggers():
                op.execute(f"DROP TRIGGER {name}")

    def _is(self, row: str, column: str) -> str:
        """1 when the row named `row` (NEW, OLD, an alias) counts in `column`, else 0."""
        return f"CASE WHEN {self.columns[column].format(row=row)} THEN 1 ELSE 0 END"

    def _changed(self, old: str, new: str) -> str:
        """Only a change of what is counted moves the counts: an edit locks no counts row."""
        return " OR ".join(f"{self._is(old, c)} <> {self._is(new, c)}" for c in self.columns)

    def _deltas(self, row: str, sign: str) -> str:
        return ", ".join(f"{c} = {c} {sign} {self._is(row, c)}" for c in self.columns)

    def _sqlite_triggers(self) -> dict[str, tuple[str, list[str]]]:
        # A trigger per row: SQLite updates rows in place.
        def add(row: str) -> list[str]:
            return [
                f"INSERT INTO {self.counts} (organization_id) VALUES ({row}.organization_id) ON CONFLICT DO NOTHING",
                f"UPDATE {self.counts} SET {self._deltas(row, '+')} WHERE organization_id = {row}.organization_id",
            ]

        take = [f"UPDATE {self.counts} SET {self._deltas('OLD', '-')} WHERE organization_id = OLD.organization_id"]
        return {
            f"{self.counts}_insert": (f"AFTER INSERT ON {self.table}", add("NEW")),
            f"{self.counts}_delete": (f"AFTER DELETE ON {self.table}", take),
            f"{self.counts}_update": (
                f"AFTER UPDATE ON {self.table} WHEN {self._changed('OLD', 'NEW')}",
                [*take, *add("NEW")],
            ),
        }

    def _upsert(self, delta: Callable[[str], str], source: str, organization: str) -> str:
        """Add each organization's summed `delta(column)` over the `source` rows to its counts."""
        columns = ", ".join(self.columns)
        sums = ", ".join(f"sum({delta(c)})" for c in self.columns)
        added = ", ".join(f"{c} = {self.counts}.{c} + EXCLUDED.{c}" for c in self.columns)
        return (
            f"INSERT INTO {self.counts} (organization_id, {columns}) "
            f"SELECT {organization}, {sums} FROM {source} GROUP BY {organization} "
            f"ON CONFLICT (organization_id) DO UPDATE SET {added}"
        )

    def _postgres_function(self) -> str:
        # A trigger per statement over its transition tables, so a statement that writes many rows
        # (a bulk purge, a seed) moves each organization's row once rather than once per row (each
        # update of a row already updated in the transaction walks the chain of its versions again).
        inserted = self._upsert(lambda c: self._is("n", c), "new_rows n", "n.organization_id")
        deleted = self._upsert(lambda c: f"-{self._is('o', c)}", "old_rows o", "o.organization_id")
        updated = self._upsert(
            lambda c: f"{self._is('n', c)} - {self._is('o', c)}",
            f"old_rows o JOIN new_rows n ON n.id = o.id WHERE {self._changed('o', 'n')}",
            "n.organization_id",
        )
        return f"""
CREATE FUNCTION {self.counts}_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {inserted};
    ELSIF TG_OP = 'DELETE' THEN
        {deleted};
    ELSE
        {updated};
    END IF;
    RETURN NULL;
END $$
"""

    def _postgres_triggers(self) -> dict[str, str]:
        on = f"ON {self.table} REFERENCING"
        return {
            f"{self.counts}_insert": f"AFTER INSERT {on} NEW TABLE AS new_rows",
            f"{self.counts}_delete": f"AFTER DELETE {on} OLD TABLE AS old_rows",
            f"{self.counts}_update": f"AFTER UPDATE {on} OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }
