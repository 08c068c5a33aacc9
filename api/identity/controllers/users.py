"""Users of the caller's tenant: list, read, create, change, disable and set roles (administrators)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.auth.services import AuthService
from api.deps import CallerDep, DbSession, OriginDep, RuntimeDep
from api.identity import deps
from api.identity.deps import Limit, Offset, Search, UsersDep
from api.identity.schemas import (
    UserCreate,
    UserResponse,
    UserRolesUpdate,
    UserStatus,
    UserUpdate,
    user_response,
)
from api.schemas import Page

UserId = Annotated[UUID, PathParameter(description="The user's id.")]


class UserController(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    dependencies = {"users": deps.users}

    @get("/", operation_id="ListUsers", guards=[requires(Permission.USERS_READ)])
    async def list_users(
        self,
        users: UsersDep,
        department_id: Annotated[UUID | None, QueryParameter(description="Only members of this department.")] = None,
        role: Annotated[str | None, QueryParameter(description="Only holders of the role with this name.")] = None,
        status: Annotated[UserStatus | None, QueryParameter(description="Only users in this status.")] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[UserResponse]:
        """Users by name; ``q`` matches name or email."""
        rows, total = await users.page(
            limit=limit, offset=offset, department_id=department_id, role=role, status=status, search=q
        )
        return Page(items=[user_response(u) for u in rows], total=total, limit=limit, offset=offset)

    @get("/{user_id:uuid}", operation_id="GetUser", guards=[requires(Permission.USERS_READ)])
    async def get_user(self, users: UsersDep, user_id: UserId) -> UserResponse:
        """One user of the caller's tenant."""
        return user_response(await users.get(user_id))

    @post("/", operation_id="CreateUser", status_code=201, guards=[requires(Permission.USERS_WRITE)])
    async def create_user(
        self, data: JSONBody[UserCreate], users: UsersDep, current_user: CallerDep, origin: OriginDep
    ) -> UserResponse:
        """Add a user; without ``password`` they set one through the reset flow."""
        return user_response(await users.create_user(data, actor=current_user, origin=origin))

    @patch("/{user_id:uuid}", operation_id="UpdateUser", guards=[requires(Permission.USERS_WRITE)])
    async def update_user(
        self,
        user_id: UserId,
        data: JSONBody[UserUpdate],
        users: UsersDep,
        current_user: CallerDep,
        origin: OriginDep,
        runtime: RuntimeDep,
        db_session: DbSession,
    ) -> UserResponse:
        """Change a user's profile or status; ``status: disabled`` signs them out on every device."""
        auth = AuthService(runtime=runtime)
        user, revoked = await users.update_user(user_id, data, actor=current_user, origin=origin, auth=auth)
        await db_session.commit()
        await auth.announce_revoked(revoked)
        return user_response(user)

    @put("/{user_id:uuid}/roles", operation_id="SetUserRoles", guards=[requires(Permission.USERS_WRITE)])
    async def set_roles(
        self,
        user_id: UserId,
        data: JSONBody[UserRolesUpdate],
        users: UsersDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> UserResponse:
        """Replace the user's roles; you can only grant or take away roles whose permissions you hold."""
        return user_response(await users.set_roles(user_id, data.roles, actor=current_user, origin=origin))
