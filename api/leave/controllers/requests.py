"""Leave requests: ask, list one's own or everyone's, read one, cancel one's own."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.leave import deps
from api.leave.deps import LeaveRequestsDep
from api.leave.schemas import LeaveRequestCreate, LeaveRequestResponse, LeaveStatus, leave_request_response
from api.schemas import Page

RequestId = Annotated[UUID, PathParameter(description="The leave request's id.")]
StatusFilter = Annotated[LeaveStatus | None, QueryParameter(description="Only requests in this status.")]
TypeFilter = Annotated[UUID | None, QueryParameter(description="Only requests of this leave type.")]


class LeaveRequestController(Controller):
    path = "/api/v1/leave/requests"
    tags = ["leave"]
    dependencies = {"leave_requests": deps.leave_requests}

    @post("/", operation_id="RequestLeave", status_code=201, guards=[requires(Permission.LEAVE_REQUEST)])
    async def request_leave(
        self,
        data: JSONBody[LeaveRequestCreate],
        leave_requests: LeaveRequestsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> LeaveRequestResponse:
        """Ask for leave on local dates of one's time zone; it waits as ``pending`` for the approval request
        (kind ``leave``, ``subject_id`` the leave request's id) submitted with it.

        Errors: ``404 not_found`` (leave type), ``409 leave_type_inactive``, ``422 invalid_range``,
        ``422 half_day_single_date``, ``422 crosses_year``, ``422 no_working_days``, ``409 leave_overlap``
        (with the other request's id), ``409 insufficient_balance`` (with ``requested`` and ``available``),
        ``422 no_workflow`` or ``422 no_approvers`` when the tenant's leave workflow finds nobody to approve it.
        """
        return leave_request_response(await leave_requests.request_leave(data, actor=current_user, origin=origin))

    @get("/mine", operation_id="ListMyLeaveRequests", guards=[requires(Permission.LEAVE_REQUEST)])
    async def mine(
        self,
        leave_requests: LeaveRequestsDep,
        current_user: CallerDep,
        status: StatusFilter = None,
        leave_type_id: TypeFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[LeaveRequestResponse]:
        """One's own requests, latest start first."""
        rows, total = await leave_requests.page(
            limit=limit, offset=offset, user_id=current_user.id, status=status, leave_type_id=leave_type_id
        )
        return Page(items=[leave_request_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/", operation_id="ListLeaveRequests", guards=[requires(Permission.LEAVE_READ)])
    async def list_requests(
        self,
        leave_requests: LeaveRequestsDep,
        user_id: Annotated[UUID | None, QueryParameter(description="Only this person's.")] = None,
        status: StatusFilter = None,
        leave_type_id: TypeFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[LeaveRequestResponse]:
        """Everyone's requests, latest start first."""
        rows, total = await leave_requests.page(
            limit=limit, offset=offset, user_id=user_id, status=status, leave_type_id=leave_type_id
        )
        return Page(items=[leave_request_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{request_id:uuid}", operation_id="GetLeaveRequest", guards=[requires(Permission.LEAVE_REQUEST)])
    async def get_request(
        self, leave_requests: LeaveRequestsDep, current_user: CallerDep, request_id: RequestId
    ) -> LeaveRequestResponse:
        """One request: one's own, or anyone's with ``leave:read`` (``404 not_found`` otherwise)."""
        read_all = current_user.can(Permission.LEAVE_READ)
        return leave_request_response(await leave_requests.visible(request_id, current_user, read_all=read_all))

    @post(
        "/{request_id:uuid}/cancel",
        operation_id="CancelLeaveRequest",
        status_code=200,
        guards=[requires(Permission.LEAVE_REQUEST)],
    )
    async def cancel(
        self, leave_requests: LeaveRequestsDep, current_user: CallerDep, origin: OriginDep, request_id: RequestId
    ) -> LeaveRequestResponse:
        """Withdraw one's pending request (its approval request is cancelled with it), or approved leave not yet
        started; its days are freed (``404 not_found``, also for someone else's; ``409 not_cancellable``)."""
        return leave_request_response(await leave_requests.cancel(request_id, actor=current_user, origin=origin))
