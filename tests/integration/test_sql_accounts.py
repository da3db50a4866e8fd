"""Organizations, users, sessions and refresh tokens on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta

import pytest

from tests.integration.sql_fixtures import NOW, Database, make_org, make_refresh_token, make_session, make_user
from vidplat.domain.accounts.model import Role
from vidplat.domain.errors import EmailTaken, OrganizationNameTaken, SlugTaken
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import PageRequest


async def test_organizations_are_found_by_id_and_slug_with_aware_timestamps(db: Database) -> None:
    org = make_org("Acme Films")
    await db.seed(org)
    async with db.uow() as uow:
        by_id = await uow.organizations.get(org.id)
        by_slug = await uow.organizations.get_by_slug("acme-films")
        missing = await uow.organizations.get(new_id())
    assert by_id is not None
    assert by_slug == by_id
    assert (by_id.name, by_id.slug, by_id.created_at) == ("Acme Films", "acme-films", NOW)
    assert by_id.created_at.tzinfo is not None
    assert missing is None


async def test_organization_names_exist_case_insensitively_and_slugs_exactly(db: Database) -> None:
    await db.seed(make_org("Acme Films"))
    async with db.uow() as uow:
        assert await uow.organizations.name_exists("ACME films")
        assert not await uow.organizations.name_exists("Acme")
        assert await uow.organizations.slug_exists("acme-films")
        assert not await uow.organizations.slug_exists("acme")


async def test_organization_names_are_unique_case_insensitively(db: Database) -> None:
    await db.seed(make_org("Acme Films"))
    taken = make_org("ACME FILMS")
    taken.slug = "another-slug"
    async with db.uow() as uow:
        with pytest.raises(OrganizationNameTaken):
            await uow.organizations.add(taken)


async def test_a_taken_slug_is_reported_as_a_taken_slug(db: Database) -> None:
    await db.seed(make_org("Acme Films"))
    async with db.uow() as uow:
        with pytest.raises(SlugTaken):
            await uow.organizations.add(make_org("Acme  Films!"))


async def test_users_are_read_only_within_their_organization(db: Database) -> None:
    org, other = make_org(), make_org()
    user = make_user(org, "ann@example.com", role=Role.ADMIN)
    await db.seed(org, other, user)
    async with db.uow() as uow:
        found = await uow.users.get(org.id, user.id)
        by_email = await uow.users.get_by_email(org.id, "ann@example.com")
        assert await uow.users.get(other.id, user.id) is None
        assert await uow.users.get_by_email(other.id, "ann@example.com") is None
    assert found is not None
    assert by_email == found
    assert (found.email, found.role, found.points, found.created_at) == ("ann@example.com", Role.ADMIN, 0, NOW)


async def test_deleted_users_are_invisible(db: Database) -> None:
    org = make_org()
    admin = make_user(org, role=Role.ADMIN)
    gone = make_user(org, "gone@example.com", role=Role.ADMIN, deleted_at=NOW)
    await db.seed(org, admin, gone)
    async with db.uow() as uow:
        assert await uow.users.get(org.id, gone.id) is None
        assert await uow.users.get_by_email(org.id, "gone@example.com") is None
        assert await uow.users.count_admins(org.id) == 1
        listed = await uow.users.list(org.id, PageRequest(), role=None, email_query=None)
    assert [u.id for u in listed.items] == [admin.id]


async def test_emails_are_unique_per_organization_case_insensitively(db: Database) -> None:
    org, other = make_org(), make_org()
    await db.seed(org, other, make_user(org, "ann@example.com"))
    await db.seed(make_user(other, "ann@example.com"))
    async with db.uow() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.add(make_user(org, "ANN@example.com"))


async def test_deleted_users_free_their_email(db: Database) -> None:
    org = make_org()
    await db.seed(org, make_user(org, "ann@example.com", deleted_at=NOW))
    again = make_user(org, "ann@example.com")
    await db.seed(again)
    async with db.uow() as uow:
        assert await uow.users.get_by_email(org.id, "ann@example.com") == again


async def test_restoring_a_user_whose_email_was_reused_raises_email_taken(db: Database) -> None:
    org = make_org()
    old = make_user(org, "ann@example.com", deleted_at=NOW)
    await db.seed(org, old, make_user(org, "ann@example.com"))
    old.deleted_at = None
    async with db.uow() as uow:
        with pytest.raises(EmailTaken):
            await uow.users.update(old, "deleted_at")


async def test_user_listing_pages_by_creation_with_filters_and_totals(db: Database) -> None:
    org, other = make_org(), make_org()
    users = [make_user(org, f"user{i}@example.com", created_at=NOW + timedelta(minutes=i)) for i in range(5)]
    users[4].role = Role.ADMIN
    await db.seed(org, other, *users, make_user(other))
    async with db.uow() as uow:
        first = await uow.users.list(org.id, PageRequest(limit=2), role=None, email_query=None)
        last = await uow.users.list(org.id, PageRequest(limit=2, offset=4), role=None, email_query=None)
        beyond = await uow.users.list(org.id, PageRequest(limit=2, offset=10), role=None, email_query=None)
        admins = await uow.users.list(org.id, PageRequest(), role=Role.ADMIN, email_query=None)
        search = await uow.users.list(org.id, PageRequest(), role=None, email_query="USER3@")
    assert [u.id for u in first.items] == [users[0].id, users[1].id]
    assert (first.total, first.limit, first.offset) == (5, 2, 0)
    assert [u.id for u in last.items] == [users[4].id]
    assert (beyond.items, beyond.total) == ([], 5)
    assert [u.id for u in admins.items] == [users[4].id]
    assert [u.id for u in search.items] == [users[3].id]


async def test_email_search_treats_wildcards_literally(db: Database) -> None:
    org = make_org()
    plain, underscored = make_user(org, "ab@example.com"), make_user(org, "a_b@example.com")
    await db.seed(org, plain, underscored)
    async with db.uow() as uow:
        found = await uow.users.list(org.id, PageRequest(), role=None, email_query="a_b")
        percent = await uow.users.list(org.id, PageRequest(), role=None, email_query="%")
    assert [u.id for u in found.items] == [underscored.id]
    assert percent.total == 0


async def test_concurrent_point_credits_all_count(db: Database) -> None:
    org = make_org()
    user, other = make_user(org), make_user(org)
    await db.seed(org, user, other)

    async def credit(index: int) -> None:
        async with db.uow() as uow:
            # Half the batches name the users in the other order: row locks are still taken in one.
            points = {user.id: 10, other.id: 1} if index % 2 else {other.id: 1, user.id: 10}
            await uow.users.add_points(points)
            await uow.commit()

    await asyncio.gather(*(credit(i) for i in range(20)))
    async with db.uow() as uow:
        found, found_other = await uow.users.get(org.id, user.id), await uow.users.get(org.id, other.id)
    assert found is not None
    assert found_other is not None
    assert (found.points, found_other.points) == (200, 20)


async def test_updating_a_stale_user_keeps_the_points_credited_meanwhile(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    await db.seed(org, user)
    async with db.uow() as uow:
        await uow.users.add_points({user.id: 10})
        await uow.commit()
    user.role, user.password_hash = Role.ADMIN, "$argon2id$new"
    async with db.uow() as uow:
        await uow.users.update(user, "role", "password_hash")
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.users.get(org.id, user.id)
    assert found is not None
    assert (found.role, found.password_hash, found.points) == (Role.ADMIN, "$argon2id$new", 10)


async def test_an_update_writes_only_the_fields_it_names(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    await db.seed(org, user)
    stale = copy.copy(user)
    async with db.uow() as uow:  # committed after `stale` was read
        user.role = Role.ADMIN
        await uow.users.update(user, "role")
        await uow.commit()
    stale.password_hash, stale.email = "$argon2id$new", "renamed@example.com"
    async with db.uow() as uow:
        await uow.users.update(stale, "password_hash")
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.users.get(org.id, user.id)
    assert found is not None
    assert (found.role, found.password_hash, found.email) == (Role.ADMIN, "$argon2id$new", user.email)


async def test_the_principal_is_the_active_user_of_a_live_session(db: Database) -> None:
    org = make_org()
    user, deleted = make_user(org), make_user(org, deleted_at=NOW)
    live, expired, revoked = make_session(user), make_session(user, expires_at=NOW), make_session(user)
    of_deleted = make_session(deleted)
    await db.seed(org, user, deleted, live, expired, revoked, of_deleted)
    async with db.uow() as uow:
        await uow.sessions.revoke(revoked.id, NOW)
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.sessions.get_principal_user(live.id, NOW) == user
        assert await uow.sessions.get_principal_user(expired.id, NOW) is None
        assert await uow.sessions.get_principal_user(revoked.id, NOW) is None
        assert await uow.sessions.get_principal_user(of_deleted.id, NOW) is None
        assert await uow.sessions.get_principal_user(new_id(), NOW) is None


async def test_revoking_keeps_the_first_revocation_time(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    session = make_session(user)
    await db.seed(org, user, session)
    async with db.uow() as uow:
        await uow.sessions.revoke(session.id, NOW)
        await uow.sessions.revoke(session.id, NOW + timedelta(hours=1))
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.sessions.get(session.id)
    assert found is not None
    assert (found.user_id, found.organization_id, found.expires_at) == (user.id, org.id, session.expires_at)
    assert found.revoked_at == NOW


async def test_revoking_all_sessions_of_a_user_can_keep_one(db: Database) -> None:
    org = make_org()
    user, bystander = make_user(org), make_user(org)
    current, other, theirs = make_session(user), make_session(user), make_session(bystander)
    await db.seed(org, user, bystander, current, other, theirs)
    async with db.uow() as uow:
        await uow.sessions.revoke_all_for_user(user.id, NOW, keep=current.id)
        await uow.commit()
    async with db.uow() as uow:
        found = [await uow.sessions.get(s.id) for s in (current, other, theirs)]
    assert [s.revoked_at if s else "missing" for s in found] == [None, NOW, None]


async def test_a_refresh_token_is_spent_once(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    session = make_session(user)
    token = make_refresh_token(session)
    await db.seed(org, user, session, token)
    async with db.uow() as uow:
        assert await uow.refresh_tokens.mark_used(token.id, NOW)
        assert not await uow.refresh_tokens.mark_used(token.id, NOW + timedelta(seconds=1))
        await uow.commit()
    async with db.uow() as uow:
        found = await uow.refresh_tokens.get_by_hash("h" * 64)
        assert await uow.refresh_tokens.get_by_hash("x" * 64) is None
    assert found is not None
    assert (found.id, found.session_id, found.used_at) == (token.id, session.id, NOW)


async def test_concurrent_refreshes_spend_a_token_exactly_once(db: Database) -> None:
    org = make_org()
    user = make_user(org)
    session = make_session(user)
    token = make_refresh_token(session)
    await db.seed(org, user, session, token)

    async def spend() -> bool:
        async with db.uow() as uow:
            spent = await uow.refresh_tokens.mark_used(token.id, NOW)
            await asyncio.sleep(0.01)
            await uow.commit()
            return spent

    assert sorted(await asyncio.gather(spend(), spend(), spend())) == [False, False, True]
