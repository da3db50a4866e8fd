"""Unit-test fixtures: a fresh World of fakes per test and two signed-up tenants."""

from __future__ import annotations

import pytest

from tests.unit.factories import Account, Tenant, World, add_user, sign_up


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
async def acme(world: World) -> Tenant:
    return await sign_up(world, name="Acme")


@pytest.fixture
async def globex(world: World) -> Tenant:
    """Another organization, for cross-tenant checks."""
    return await sign_up(world, name="Globex")


@pytest.fixture
def member(world: World, acme: Tenant) -> Account:
    """A member of Acme."""
    return add_user(world, acme)
