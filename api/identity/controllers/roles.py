"""Roles: named sets of permissions. Custom ones are created, changed and deleted; built-in ones keep their names."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep
from api.identity import deps
from api.identity.deps import Limit, Offset, RolesDep, Search
from api.identity.schemas import RoleCreate, RoleResponse, RoleUpdate, role_response
from api.schemas import Page

RoleId = Annotated[UUID, PathParameter(description="The role's id.")]


class RoleController(Controller):
    path = "/api/v1/roles"
    tags = ["roles"]
    dependencies = {"roles": deps.roles}

    @get("/", operation_id="ListRoles", guards=[requires(Permission.ROLES_READ)])
    async def list_roles(
        self, roles: RolesDep, q: Search = None, limit: Limit = 50, offset: Offset = 0
    ) -> Page[RoleResponse]:
        """Roles by name, built-in and custom."""
        rows, total = await roles.page(limit=limit, offset=offset, search=q)
        return Page(items=[role_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{role_id:uuid}", operation_id="GetRole", guards=[requires(Permission.ROLES_READ)])
    async def get_role(self, roles: RolesDep, role_id: RoleId) -> RoleResponse:
        """One role."""
        return role_response(await roles.get(role_id))

    @post("/", operation_id="CreateRole", status_code=201, guards=[requires(Permission.ROLES_WRITE)])
    async def create_role(
        self, data: JSONBody[RoleCreate], roles: RolesDep, current_user: CallerDep, origin: OriginDep
    ) -> RoleResponse:
        """Add a custom role (``422 unknown_permission``; ``403`` for permissions you do not hold)."""
        return role_response(await roles.create_role(data, actor=current_user, origin=origin))

    @patch("/{role_id:uuid}", operation_id="UpdateRole", guards=[requires(Permission.ROLES_WRITE)])
    async def update_role(
        self,
        role_id: RoleId,
        data: JSONBody[RoleUpdate],
        roles: RolesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> RoleResponse:
        """Change a role (``409 builtin_role`` when renaming a built-in one)."""
        return role_response(await roles.update_role(role_id, data, actor=current_user, origin=origin))

    @delete("/{role_id:uuid}", operation_id="DeleteRole", status_code=204, guards=[requires(Permission.ROLES_WRITE)])
    async def delete_role(self, role_id: RoleId, roles: RolesDep, current_user: CallerDep, origin: OriginDep) -> None:
        """Delete a custom role; its holders lose it (``409 builtin_role`` for a built-in one)."""
        await roles.delete_role(role_id, actor=current_user, origin=origin)
