"""User management: self-service and the admin's view of their own organization."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID

from vidplat.domain.accounts.model import Principal, Role, User, UserField, check_password, normalize_email
from vidplat.domain.billing import quota
from vidplat.domain.errors import EmailTaken, LastAdmin, UserNotFound, WrongPassword
from vidplat.domain.ids import new_id
from vidplat.domain.pagination import Page, PageRequest
from vidplat.domain.ports import Clock, PasswordHasher, UnitOfWork, UnitOfWorkFactory


async def _user(uow: UnitOfWork, principal: Principal, user_id: UUID, *, for_update: bool = False) -> User:
    user = await uow.users.get(principal.organization_id, user_id, for_update=for_update)
    if user is None:
        raise UserNotFound
    return user


async def _ensure_another_admin(uow: UnitOfWork, user: User) -> None:
    """Refuse to remove the organization's last active admin; the caller's organization lock keeps the count true."""
    if user.is_admin and await uow.users.count_admins(user.organization_id) <= 1:
        raise LastAdmin


async def _locked_user(uow: UnitOfWork, principal: Principal, user_id: UUID, *, admins_counted: bool) -> User:
    """The user's row locked until commit, after the organization's lock when the admins will be counted.

    Always the organization before the row, so that two of these never wait for each other in a cycle.
    """
    if admins_counted:
        await uow.organizations.lock(principal.organization_id)
    return await _user(uow, principal, user_id, for_update=True)


@dataclass(frozen=True, slots=True)
class GetUser:
    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, user_id: UUID) -> User:
        if user_id != principal.user_id:
            principal.require_admin()
        async with self.uow(read_only=True) as uow:
            return await _user(uow, principal, user_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserQuery:
    page: PageRequest
    role: Role | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class ListUsers:
    uow: UnitOfWorkFactory

    async def __call__(self, principal: Principal, query: UserQuery) -> Page[User]:
        principal.require_admin()
        async with self.uow(read_only=True) as uow:
            return await uow.users.list(principal.organization_id, query.page, role=query.role, email_query=query.email)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateUserCommand:
    email: str
    password: str | None = None
    role: Role = Role.MEMBER


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedUser:
    user: User
    initial_password: str | None


@dataclass(frozen=True, slots=True)
class CreateUser:
    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    async def __call__(self, principal: Principal, cmd: CreateUserCommand) -> CreatedUser:
        principal.require_admin()
        email = normalize_email(cmd.email)
        generated = None if cmd.password is not None else secrets.token_urlsafe(18)
        password_hash = await self.hasher.hash(generated or check_password(cmd.password or ""))
        async with self.uow() as uow:
            now = self.clock.now()
            await quota.admit_user(uow, principal.organization_id, now)
            if await uow.users.get_by_email(principal.organization_id, email) is not None:
                raise EmailTaken
            user = User(
                id=new_id(),
                organization_id=principal.organization_id,
                email=email,
                role=cmd.role,
                password_hash=password_hash,
                created_at=now,
            )
            await uow.users.add(user)
            await uow.commit()
        return CreatedUser(user=user, initial_password=generated)


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateUserCommand:
    password: str | None = None
    role: Role | None = None


@dataclass(frozen=True, slots=True)
class UpdateUser:
    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    async def __call__(self, principal: Principal, user_id: UUID, cmd: UpdateUserCommand) -> User:
        principal.require_admin()
        password_hash = None if cmd.password is None else await self.hasher.hash(check_password(cmd.password))
        async with self.uow() as uow:
            # Locked, so a concurrent deletion or demotion is seen, not written over.
            user = await _locked_user(uow, principal, user_id, admins_counted=cmd.role is Role.MEMBER)
            changed: list[UserField] = []
            if cmd.role is not None and cmd.role is not user.role:
                if cmd.role is Role.MEMBER:
                    await _ensure_another_admin(uow, user)
                user.role = cmd.role
                changed.append("role")
            if password_hash is not None:
                user.password_hash = password_hash
                changed.append("password_hash")
                await uow.sessions.revoke_all_for_user(user.id, self.clock.now())
            await uow.users.update(user, *changed)
            await uow.commit()
        return user


@dataclass(frozen=True, slots=True)
class DeleteUser:
    """Soft delete: the account is deactivated, its data kept and its sessions revoked."""

    uow: UnitOfWorkFactory
    clock: Clock

    async def __call__(self, principal: Principal, user_id: UUID) -> None:
        if user_id != principal.user_id:
            principal.require_admin()
        now = self.clock.now()
        async with self.uow() as uow:
            user = await _locked_user(uow, principal, user_id, admins_counted=True)
            await _ensure_another_admin(uow, user)
            user.deleted_at = now
            await uow.users.update(user, "deleted_at")
            await uow.sessions.revoke_all_for_user(user.id, now)
            await uow.commit()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangePasswordCommand:
    current_password: str
    new_password: str


@dataclass(frozen=True, slots=True)
class ChangeOwnPassword:
    uow: UnitOfWorkFactory
    hasher: PasswordHasher
    clock: Clock

    async def __call__(self, principal: Principal, cmd: ChangePasswordCommand) -> None:
        new_hash = await self.hasher.hash(check_password(cmd.new_password, "new_password"))
        # argon2 runs outside any transaction; the write below re-reads the row under its lock.
        async with self.uow(read_only=True) as uow:
            verified = (await _user(uow, principal, principal.user_id)).password_hash
        if not await self.hasher.verify(verified, cmd.current_password):
            raise WrongPassword
        async with self.uow() as uow:
            user = await _user(uow, principal, principal.user_id, for_update=True)
            if user.password_hash != verified:
                raise WrongPassword  # changed meanwhile: the password given was checked against the old one
            user.password_hash = new_hash
            await uow.users.update(user, "password_hash")
            await uow.sessions.revoke_all_for_user(user.id, self.clock.now(), keep=principal.session_id)
            await uow.commit()
