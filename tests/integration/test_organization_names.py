"""Organization names are unique by their folded form (NFKC + casefold) on SQLite and PostgreSQL.

The database enforces it (a unique key on the folded name), so two signups racing with
`Straße` and `STRASSE` cannot both win, whatever the use case checked before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import Table, text

from tests.integration.sql_fixtures import NOW, Database, make_org, sibling_postgres_database, sqlite_url
from tests.unit.fakes import FakeClock
from vidplat.adapters.local.limiter import MemoryAttemptLimiter
from vidplat.adapters.sql import make_engine, make_session_factory, run_migrations
from vidplat.adapters.sql.rows import OrganizationRow
from vidplat.domain.accounts.policy import AuthPolicy
from vidplat.domain.accounts.signup import SignUp, SignUpCommand
from vidplat.domain.errors import OrganizationNameTaken

BEFORE = "a6c1b3e89782"  # the revision before organization names were folded
ORGANIZATIONS = cast("Table", OrganizationRow.__table__)

TWINS = [
    ("Straße", "STRASSE"),
    ("\u01c4ungla", "\u01c5ungla"),  # DŽ and its title case Dž
    ("\uff21\uff43\uff4d\uff45 Films", "acme  films"),  # full-width "Acme", and spaces
]


@pytest.mark.parametrize(("first", "second"), TWINS)
async def test_a_name_folding_to_an_existing_one_exists(db: Database, first: str, second: str) -> None:
    await db.seed(make_org(first))
    async with db.uow(read_only=True) as uow:
        assert await uow.organizations.name_exists(second)


@pytest.mark.parametrize(("first", "second"), TWINS)
async def test_the_database_refuses_a_second_name_with_the_same_folded_form(
    db: Database, first: str, second: str
) -> None:
    await db.seed(make_org(first))
    with pytest.raises(OrganizationNameTaken):
        await db.seed(make_org(second))


async def test_two_concurrent_writers_of_twin_names_leave_one_organization(db: Database) -> None:
    # The second writer inserts while the first has not committed: it waits on the key (PostgreSQL)
    # or the write lock (SQLite), and fails once the first commits, whenever it got there.
    first = db.uow()
    async with first as uow:
        await uow.organizations.add(make_org("Straße"))
        second = asyncio.create_task(db.seed(make_org("STRASSE")))
        await asyncio.sleep(0)  # let it start
        await uow.commit()
    with pytest.raises(OrganizationNameTaken):
        await second
    async with db.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM organizations"))).scalar_one() == 1


class RendezvousHasher:
    """Both signups hash, then wait for each other: they reach the database together."""

    def __init__(self) -> None:
        self._barrier = asyncio.Barrier(2)

    async def hash(self, password: str) -> str:
        await self._barrier.wait()
        return f"hashed:{password}"

    async def verify(self, password_hash: str, password: str) -> bool:
        return password_hash == f"hashed:{password}"


async def test_two_racing_signups_with_twin_names_create_one_organization(db: Database) -> None:
    clock = FakeClock(NOW)
    hasher = RendezvousHasher()
    sign_up = SignUp(db.uow, hasher, clock, MemoryAttemptLimiter(clock), AuthPolicy().signup_per_address)
    results = await asyncio.gather(
        *(
            sign_up(SignUpCommand(name=name, admin_email=f"admin{n}@example.com", admin_password="a long password"))
            for n, name in enumerate(["Straße", "STRASSE"])
        ),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["OrganizationNameTaken", "OrganizationOverview"]
    async with db.engine.connect() as connection:
        for table in ("organizations", "users", "subscriptions"):
            assert (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def initial_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database at the revision before the folded key: names unique by lower() only."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "vidplat.db")
        run_migrations(url, BEFORE)
        yield url
        return
    with sibling_postgres_database(request.getfixturevalue("postgres_url")) as url:
        run_migrations(url, BEFORE)
        yield url


async def test_the_migration_backfills_keys_and_keeps_existing_twins(initial_database: str) -> None:
    # lower() told these apart, so both exist; the older keeps the plain key.
    older, newer = make_org("Straße"), make_org("STRASSE", created_at=NOW + timedelta(minutes=1))
    engine = make_engine(initial_database)
    try:
        async with engine.begin() as connection:
            for org in (older, newer):
                # Only the columns of that revision (Core leaves out the ones not given).
                await connection.execute(
                    ORGANIZATIONS.insert().values(
                        id=org.id, name=org.name, slug=org.slug + org.name[-1], created_at=org.created_at
                    )
                )
        await asyncio.to_thread(run_migrations, initial_database)
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT name, name_key FROM organizations"))).all()
        keys: dict[str, str] = dict(rows)
        assert keys == {"Straße": "strasse", "STRASSE": f"strasse ({newer.id})"}
        with pytest.raises(OrganizationNameTaken):
            await Database(engine, make_session_factory(engine)).seed(make_org("strasse"))
    finally:
        await engine.dispose()
