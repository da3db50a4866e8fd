"""Users: self-service under /users/me, and the admin's management of their organization."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from vidplat.domain.accounts.model import Role
from vidplat.domain.accounts.users import ChangePasswordCommand, CreateUserCommand, UpdateUserCommand, UserQuery
from vidplat.entrypoints.http.openapi_problems import problems
from vidplat.entrypoints.http.params import Caller, Limit, Offset, PageCursor, Uc, next_cursor, page
from vidplat.entrypoints.http.schemas import (
    CreatedUserOut,
    CreateUserBody,
    CreditOut,
    PasswordChangeBody,
    PointsOut,
    UpdateUserBody,
    UserOut,
    UserPage,
)
from vidplat.entrypoints.http.security import admin_only
from vidplat.entrypoints.http.text import LINE_PATTERN


class MeController(Controller):
    path = "/api/v1/users/me"
    tags = ["me"]

    @get("/", responses=problems(401), summary="The caller")
    async def me(self, uc: Uc, principal: Caller) -> UserOut:
        return UserOut.of(await uc.get_user(principal, principal.user_id))

    @put(
        "/password",
        status_code=204,
        responses=problems(401, 422),
        summary="Change own password; other sessions are revoked",
    )
    async def change_password(self, data: JSONBody[PasswordChangeBody], uc: Uc, principal: Caller) -> None:
        cmd = ChangePasswordCommand(current_password=data.current_password, new_password=data.new_password)
        await uc.change_own_password(principal, cmd)

    @delete("/", status_code=204, responses=problems(401, 409), summary="Deactivate own account")
    async def delete_me(self, uc: Uc, principal: Caller) -> None:
        await uc.delete_user(principal, principal.user_id)

    @get("/points", responses=problems(401, 422), summary="View points: running total and ledger")
    async def points(
        self, uc: Uc, principal: Caller, limit: Limit = 20, offset: Offset = 0, cursor: PageCursor = None
    ) -> PointsOut:
        statement = await uc.list_my_points(principal, page(limit, offset, cursor))
        ledger = statement.credits
        items = [CreditOut.of(c) for c in ledger.items]
        return PointsOut(statement.total, items, ledger.limit, ledger.offset, next_cursor(ledger))


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    guards = [admin_only]

    @post("/", responses=problems(401, 403, 409, 422), summary="Create a user in the caller's organization")
    async def create(self, data: JSONBody[CreateUserBody], uc: Uc, principal: Caller) -> CreatedUserOut:
        cmd = CreateUserCommand(email=data.email, password=data.password, role=data.role)
        return CreatedUserOut.created(await uc.create_user(principal, cmd))

    @get("/", responses=problems(401, 403, 422), summary="Users of the organization")
    async def list_users(
        self,
        uc: Uc,
        principal: Caller,
        limit: Limit = 20,
        offset: Offset = 0,
        role: FromQuery[Role | None] = None,
        q: Annotated[str | None, Parameter(max_length=254, pattern=LINE_PATTERN, description="Email contains")] = None,
        cursor: PageCursor = None,
    ) -> UserPage:
        found = await uc.list_users(principal, UserQuery(page=page(limit, offset, cursor), role=role, email=q))
        items = [UserOut.of(u) for u in found.items]
        return UserPage(items, found.total, found.limit, found.offset, next_cursor(found))

    @get("/{user_id:uuid}", responses=problems(401, 403, 404), summary="One user")
    async def get_user(self, user_id: FromPath[UUID], uc: Uc, principal: Caller) -> UserOut:
        return UserOut.of(await uc.get_user(principal, user_id))

    @patch("/{user_id:uuid}", responses=problems(401, 403, 404, 409, 422), summary="Reset a password or change a role")
    async def update(
        self, user_id: FromPath[UUID], data: JSONBody[UpdateUserBody], uc: Uc, principal: Caller
    ) -> UserOut:
        cmd = UpdateUserCommand(password=data.password, role=data.role)
        return UserOut.of(await uc.update_user(principal, user_id, cmd))

    @delete("/{user_id:uuid}", status_code=204, responses=problems(401, 403, 404, 409), summary="Deactivate a user")
    async def delete_user(self, user_id: FromPath[UUID], uc: Uc, principal: Caller) -> None:
        await uc.delete_user(principal, user_id)
