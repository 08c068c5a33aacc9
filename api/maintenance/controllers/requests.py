"""Maintenance requests: list with filters, read with history, raise, change, and move through their statuses."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep, Search
from api.maintenance import deps
from api.maintenance.deps import MaintenanceDep, RequestId
from api.maintenance.schemas import (
    MaintenanceCreate,
    MaintenanceDetail,
    MaintenancePriority,
    MaintenanceResponse,
    MaintenanceStatus,
    MaintenanceStatusChange,
    MaintenanceUpdate,
    maintenance_response,
)
from api.schemas import Page


class MaintenanceController(Controller):
    path = "/api/v1/maintenance"
    tags = ["maintenance"]
    dependencies = {"maintenance": deps.maintenance}

    @get("/", operation_id="ListMaintenanceRequests", guards=[requires(Permission.MAINTENANCE_READ)])
    async def list_requests(
        self,
        maintenance: MaintenanceDep,
        status: Annotated[MaintenanceStatus | None, QueryParameter(description="Only in this status.")] = None,
        priority: Annotated[MaintenancePriority | None, QueryParameter(description="Only of this priority.")] = None,
        assignee_id: Annotated[UUID | None, QueryParameter(description="Only assigned to this user.")] = None,
        asset_id: Annotated[UUID | None, QueryParameter(description="Only on this asset.")] = None,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only on this workplace.")] = None,
        breached: Annotated[
            bool | None, QueryParameter(description="Only those that missed (or not) their SLA.")
        ] = None,
        q: Search = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[MaintenanceResponse]:
        """Requests of the tenant, soonest due first; ``q`` matches the title."""
        rows, total = await maintenance.page(
            limit=limit,
            offset=offset,
            status=status,
            priority=priority,
            assignee_id=assignee_id,
            asset_id=asset_id,
            workplace_id=workplace_id,
            breached=breached,
            search=q,
        )
        return Page(items=[maintenance_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{request_id:uuid}", operation_id="GetMaintenanceRequest", guards=[requires(Permission.MAINTENANCE_READ)])
    async def get_request(self, maintenance: MaintenanceDep, request_id: RequestId) -> MaintenanceDetail:
        """One request with its status history (``404 not_found``)."""
        return await maintenance.detail(await maintenance.get(request_id))

    @post("/", operation_id="CreateMaintenanceRequest", status_code=201, guards=[requires(Permission.MAINTENANCE_WORK)])
    async def create_request(
        self, data: JSONBody[MaintenanceCreate], maintenance: MaintenanceDep, current_user: CallerDep, origin: OriginDep
    ) -> MaintenanceDetail:
        """Raise a request on an asset or a workplace, due by the tenant's SLA for its priority; its assignee is
        notified (category ``task``).

        Errors: ``422 one_target_required`` unless exactly one of ``asset_id`` and ``workplace_id`` is given,
        ``404 not_found`` for an asset, workplace or assignee not in the tenant, ``422 invalid_cost``.
        """
        return await maintenance.detail(await maintenance.create_request(data, actor=current_user, origin=origin))

    @patch(
        "/{request_id:uuid}", operation_id="UpdateMaintenanceRequest", guards=[requires(Permission.MAINTENANCE_WRITE)]
    )
    async def update_request(
        self,
        request_id: RequestId,
        data: JSONBody[MaintenanceUpdate],
        maintenance: MaintenanceDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> MaintenanceDetail:
        """Change a request: a new priority moves the due time, a new assignee is notified (``404 not_found``
        for an assignee not in the tenant, ``422 invalid_cost``)."""
        request = await maintenance.update_request(request_id, data, actor=current_user, origin=origin)
        return await maintenance.detail(request)

    @post(
        "/{request_id:uuid}/status",
        operation_id="ChangeMaintenanceStatus",
        status_code=200,
        guards=[requires(Permission.MAINTENANCE_WORK)],
    )
    async def change_status(
        self,
        request_id: RequestId,
        data: JSONBody[MaintenanceStatusChange],
        maintenance: MaintenanceDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> MaintenanceDetail:
        """Move a request (its assignee, or a maintenance manager: ``403 not_your_request``) along
        open -> in_progress <-> on_hold -> resolved -> closed, or cancelled (``409 invalid_transition``)."""
        request = await maintenance.change_status(request_id, data, actor=current_user, origin=origin)
        return await maintenance.detail(request)
