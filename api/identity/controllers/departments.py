"""The department tree: list, nested view, create, move or rename, delete."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep
from api.identity import deps
from api.identity.deps import DepartmentsDep, Limit, Offset, Search
from api.identity.schemas import (
    DepartmentCreate,
    DepartmentNode,
    DepartmentResponse,
    DepartmentUpdate,
    department_response,
)
from api.schemas import Page

DepartmentId = Annotated[UUID, PathParameter(description="The department's id.")]


class DepartmentController(Controller):
    path = "/api/v1/departments"
    tags = ["departments"]
    dependencies = {"departments": deps.departments}

    @get("/", operation_id="ListDepartments", guards=[requires(Permission.DEPARTMENTS_READ)])
    async def list_departments(
        self,
        departments: DepartmentsDep,
        parent_id: Annotated[
            UUID | None, QueryParameter(description="Only direct children of this department.")
        ] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[DepartmentResponse]:
        """Departments by name, flat; see ``/tree`` for the nested view."""
        rows, total = await departments.page(limit=limit, offset=offset, parent_id=parent_id, search=q)
        return Page(items=[department_response(d) for d in rows], total=total, limit=limit, offset=offset)

    @get("/tree", operation_id="DepartmentTree", guards=[requires(Permission.DEPARTMENTS_READ)])
    async def tree(self, departments: DepartmentsDep) -> list[DepartmentNode]:
        """Every department nested under its parent; top-level ones first, siblings by name."""
        return await departments.tree()

    @get("/{department_id:uuid}", operation_id="GetDepartment", guards=[requires(Permission.DEPARTMENTS_READ)])
    async def get_department(self, departments: DepartmentsDep, department_id: DepartmentId) -> DepartmentResponse:
        """One department."""
        return department_response(await departments.get(department_id))

    @post("/", operation_id="CreateDepartment", status_code=201, guards=[requires(Permission.DEPARTMENTS_WRITE)])
    async def create_department(
        self,
        data: JSONBody[DepartmentCreate],
        departments: DepartmentsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> DepartmentResponse:
        """Add a department, at the top or under ``parent_id``."""
        return department_response(await departments.create_department(data, actor=current_user, origin=origin))

    @patch("/{department_id:uuid}", operation_id="UpdateDepartment", guards=[requires(Permission.DEPARTMENTS_WRITE)])
    async def update_department(
        self,
        department_id: DepartmentId,
        data: JSONBody[DepartmentUpdate],
        departments: DepartmentsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> DepartmentResponse:
        """Rename, move (``422 department_cycle`` under itself or a descendant) or change the head."""
        department = await departments.update_department(department_id, data, actor=current_user, origin=origin)
        return department_response(department)

    @delete(
        "/{department_id:uuid}",
        operation_id="DeleteDepartment",
        status_code=204,
        guards=[requires(Permission.DEPARTMENTS_WRITE)],
    )
    async def delete_department(
        self, department_id: DepartmentId, departments: DepartmentsDep, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """Delete an empty department (``409 department_in_use`` while it has sub-departments or members)."""
        await departments.delete_department(department_id, actor=current_user, origin=origin)
