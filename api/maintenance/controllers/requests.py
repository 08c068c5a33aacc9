"""Maintenance requests: list with filters, read with history, raise, change, and move through their statuses."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, patch, post, put
from litestar.params import JSONBody, QueryParameter

from api.audit import record
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, Limit, Offset, OriginDep, Search
from api.maintenance import deps
from api.maintenance.approval import cost_threshold, set_cost_threshold
from api.maintenance.deps import MaintenanceDep, RequestId
from api.maintenance.schemas import (
    CostThreshold,
    CostThresholdResponse,
    MaintenanceCreate,
    MaintenanceDetail,
    MaintenancePriority,
    MaintenanceResponse,
    MaintenanceStatus,
    MaintenanceStatusChange,
    MaintenanceUpdate,
    maintenance_response,
)
from api.maintenance.services import check_cost
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
        notified (category ``task``). An ``estimated_cost`` over the tenant's cost threshold makes it wait in
        ``pending_approval`` for an approval request of kind ``maintenance_cost``, submitted with it: approved, it
        opens (due by the SLA from then, its assignee told); rejected, it ends ``rejected``.

        Errors: ``422 one_target_required`` unless exactly one of ``asset_id`` and ``workplace_id`` is given,
        ``404 not_found`` for an asset, workplace or assignee not in the tenant, ``422 invalid_cost``,
        ``422 no_workflow`` / ``422 no_approvers`` for a cost over the threshold that nobody can approve.
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
        """Change a request: a new priority moves the due time, a new assignee is notified; a cost raised over
        both the tenant's threshold and its previous cost sends an active request to ``pending_approval``.

        Errors: ``404 not_found`` for an assignee not in the tenant, ``422 invalid_cost``, ``409 approval_pending``
        for a new cost while one waits for approval, ``422 no_workflow`` / ``422 no_approvers``.
        """
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
        open -> in_progress <-> on_hold -> resolved -> closed, or cancelled (``409 invalid_transition``); one in
        ``pending_approval`` may only be cancelled, which withdraws its approval request."""
        request = await maintenance.change_status(request_id, data, actor=current_user, origin=origin)
        return await maintenance.detail(request)

    @get("/cost-threshold", operation_id="GetMaintenanceCostThreshold", guards=[requires(Permission.MAINTENANCE_READ)])
    async def get_cost_threshold(self, db_session: DbSession, current_user: CallerDep) -> CostThresholdResponse:
        """The estimated cost over which a request goes to approval first (``null``: none does)."""
        return CostThresholdResponse(threshold=await cost_threshold(db_session, current_user.tenant_id))

    @put("/cost-threshold", operation_id="SetMaintenanceCostThreshold", guards=[requires(Permission.APPROVALS_MANAGE)])
    async def set_cost_threshold(
        self, data: JSONBody[CostThreshold], db_session: DbSession, current_user: CallerDep, origin: OriginDep
    ) -> CostThresholdResponse:
        """Set the tenant's cost threshold (``null`` removes it), kept in the tenant's settings as
        ``maintenance.approval_cost_threshold``; audited. Requests raised from now on follow it; those waiting
        keep waiting. Held by approval managers, not by the maintenance managers whose requests it governs.

        Errors: ``422 invalid_cost``.
        """
        threshold = await set_cost_threshold(db_session, current_user.tenant_id, check_cost(data.threshold))
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action="maintenance.cost_threshold",
            actor_user_id=current_user.id,
            origin=origin,
            target_type="tenant",
            target_id=current_user.tenant_id,
            details={"threshold": None if threshold is None else str(threshold)},
        )
        return CostThresholdResponse(threshold=threshold)
