"""Leave types: list them, add and change them (the tenant's admins)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep
from api.leave import deps
from api.leave.deps import LeaveTypesDep
from api.leave.schemas import LeaveTypeCreate, LeaveTypeResponse, LeaveTypeUpdate, leave_type_response
from persistence.models import LeaveType


class LeaveTypeController(Controller):
    path = "/api/v1/leave/types"
    tags = ["leave"]
    dependencies = {"leave_types": deps.leave_types}

    @get("/", operation_id="ListLeaveTypes", guards=[requires(Permission.LEAVE_REQUEST)])
    async def list_types(
        self,
        leave_types: LeaveTypesDep,
        include_inactive: Annotated[bool, QueryParameter(description="Also types no longer offered.")] = False,
    ) -> list[LeaveTypeResponse]:
        """The tenant's leave types by key (new tenants start with annual, sick and unpaid)."""
        filters = [] if include_inactive else [LeaveType.active.is_(True)]
        rows = await leave_types.get_many(*filters, order_by=[(LeaveType.key, False)])
        return [leave_type_response(r) for r in rows]

    @post("/", operation_id="CreateLeaveType", status_code=201, guards=[requires(Permission.LEAVE_ADMIN)])
    async def create_type(
        self, data: JSONBody[LeaveTypeCreate], leave_types: LeaveTypesDep, current_user: CallerDep, origin: OriginDep
    ) -> LeaveTypeResponse:
        """Add a leave type (``409 conflict`` for a key in use)."""
        return leave_type_response(await leave_types.add_type(data, actor=current_user, origin=origin))

    @patch("/{type_id:uuid}", operation_id="UpdateLeaveType", guards=[requires(Permission.LEAVE_ADMIN)])
    async def update_type(
        self,
        type_id: Annotated[UUID, PathParameter(description="The leave type's id.")],
        data: JSONBody[LeaveTypeUpdate],
        leave_types: LeaveTypesDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> LeaveTypeResponse:
        """Change a leave type, or stop offering it (``active: false``); ``404 not_found``."""
        return leave_type_response(await leave_types.change_type(type_id, data, actor=current_user, origin=origin))
