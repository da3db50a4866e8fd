"""Login and signup keep no transaction (nor pooled connection) open across argon2, on PostgreSQL.

A login burst that held a connection per argon2 computation would pin the pool and starve
unrelated requests. The hasher double here stops inside argon2 until released and records
how many of the pool's connections were checked out at that moment.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.conftest import PASSWORD, Platform, eventually
from vidplat.adapters.security.passwords import Argon2Hasher
from vidplat.bootstrap import Container
from vidplat.domain.accounts.auth import LoginCommand
from vidplat.domain.accounts.signup import SignUpCommand
from vidplat.domain.errors import InvalidCredentials


class GatedHasher:
    """Real argon2 that waits for `release` first, noting the pool's checked-out connections."""

    def __init__(self) -> None:
        self._argon2 = Argon2Hasher(time_cost=1, memory_cost_kib=1024, parallelism=1)
        self.container: Container | None = None
        self.gated = False
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.checked_out: list[int] = []

    async def hash(self, password: str) -> str:
        await self._gate()
        return await self._argon2.hash(password)

    async def verify(self, password_hash: str, password: str) -> bool:
        await self._gate()
        return await self._argon2.verify(password_hash, password)

    async def _gate(self) -> None:
        if not self.gated:
            return
        assert self.container is not None
        self.checked_out.append(self.container.engine.pool.checkedout())  # type: ignore[attr-defined]
        self.entered.set()
        await self.release.wait()


async def gated_container(platform: Platform) -> tuple[Container, GatedHasher]:
    hasher = GatedHasher()
    # One pooled connection and no overflow: a login holding it would starve everything else.
    container = await platform.started(hasher=hasher, db_pool_size="1")
    hasher.container = container
    return container, hasher


@pytest.mark.parametrize("outcome", ["right password", "wrong password"])
async def test_login_holds_no_connection_while_argon2_runs(platform: Platform, outcome: str) -> None:
    container, hasher = await gated_container(platform)
    org = await container.use_cases.sign_up(
        SignUpCommand(name="Pool Co", admin_email="admin@pool.test", admin_password=PASSWORD)
    )
    hasher.gated = True
    password = PASSWORD if outcome == "right password" else "not the password"
    login = asyncio.create_task(
        container.use_cases.login(
            LoginCommand(organization=org.organization.slug, email="admin@pool.test", password=password)
        )
    )
    await hasher.entered.wait()

    # Another request gets the pool's one connection while the login is inside argon2.
    plans = await container.use_cases.list_plans()
    hasher.release.set()

    assert plans
    assert hasher.checked_out == [0]
    if outcome == "right password":
        assert (await login).access_token
    else:
        with pytest.raises(InvalidCredentials):
            await login


async def test_signup_holds_no_connection_while_argon2_runs(platform: Platform) -> None:
    container, hasher = await gated_container(platform)
    hasher.gated = True
    signup = asyncio.create_task(
        container.use_cases.sign_up(SignUpCommand(name="Gated", admin_email="a@gated.test", admin_password=PASSWORD))
    )
    await hasher.entered.wait()

    plans = await container.use_cases.list_plans()
    hasher.release.set()

    assert plans
    assert hasher.checked_out == [0]
    assert (await signup).organization.name == "Gated"


async def test_a_password_change_committed_during_login_makes_it_wait_and_fail(platform: Platform) -> None:
    container = await platform.started()
    org = await container.use_cases.sign_up(
        SignUpCommand(name="Racing", admin_email="admin@racing.test", admin_password=PASSWORD)
    )
    engine = create_async_engine(platform.database_url)
    try:
        async with engine.connect() as other:
            # The other writer: a password change that has updated the row but not yet committed.
            await other.execute(
                text("UPDATE users SET password_hash = 'changed' WHERE organization_id = :org"),
                {"org": org.organization.id},
            )
            login = asyncio.create_task(
                container.use_cases.login(
                    LoginCommand(organization=org.organization.slug, email="admin@racing.test", password=PASSWORD)
                )
            )
            # Until the login either waits for that row or (had it not locked it) finishes regardless.
            await eventually(
                lambda: _waiting_on_a_lock(platform, login), within=30, every=0.02, what="the login waiting"
            )
            await other.commit()
        with pytest.raises(InvalidCredentials):
            await login
    finally:
        await engine.dispose()
    assert await platform.scalar("SELECT count(*) FROM sessions") == 0


async def _waiting_on_a_lock(platform: Platform, login: asyncio.Task[Any]) -> Any:
    if login.done():
        return True
    waiting = await platform.scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    return waiting or None
