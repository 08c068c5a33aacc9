"""Approval requests: list (mine, waiting on me, all), read, submit a custom kind, decide, cancel, resubmit,
comment."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from api.approvals import deps
from api.approvals.deps import RequestId, RequestsDep
from api.approvals.schemas import (
    CommentCreate,
    DecisionCreate,
    EventResponse,
    Kind,
    RequestCreate,
    RequestDetail,
    RequestResponse,
    Resubmission,
    Status,
    event_response,
)
from api.approvals.services.requests import Scope, request_response
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page


class RequestController(Controller):
    path = "/api/v1/approvals"
    tags = ["approvals"]
    dependencies = {"requests": deps.requests}
    guards = [requires(Permission.APPROVALS_USE)]

    @get("/", operation_id="ListApprovalRequests")
    async def list_requests(
        self,
        requests: RequestsDep,
        current_user: CallerDep,
        which: Annotated[
            Scope,
            QueryParameter(
                name="scope",
                description="mine: my requests; to_decide: waiting on me; all: every one (approvals:manage).",
            ),
        ] = "mine",
        status: Annotated[Status | None, QueryParameter(description="Only requests in this status.")] = None,
        kind: Annotated[Kind | None, QueryParameter(description="Only requests of this kind.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[RequestResponse]:
        """Requests, newest first (``403 forbidden`` for ``scope=all`` without ``approvals:manage``)."""
        rows, total = await requests.page(
            actor=current_user, scope=which, status=status, kind=kind, limit=limit, offset=offset
        )
        return Page(items=[request_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/{request_id:uuid}", operation_id="GetApprovalRequest")
    async def get_request(self, requests: RequestsDep, request_id: RequestId, current_user: CallerDep) -> RequestDetail:
        """One request with its steps, approvers and history (``404 not_found`` unless the caller is its
        requester, an approver, standing in for one, or manages approvals)."""
        return await requests.detail(await requests.visible(request_id, current_user))

    @post("/", operation_id="SubmitApprovalRequest", status_code=201)
    async def submit(
        self, data: JSONBody[RequestCreate], requests: RequestsDep, current_user: CallerDep, origin: OriginDep
    ) -> RequestDetail:
        """Submit a request of a custom kind (an integration's); its first approvers are notified.

        Errors: ``422 reserved_kind`` for a built-in kind, ``422 no_workflow`` when the kind has no active
        workflow, ``422 no_approvers`` when no step finds an approver, ``403 forbidden`` to name another
        requester without ``approvals:manage``, ``404 not_found`` for a requester not in the tenant.
        """
        return await requests.detail(await requests.submit_custom(data, actor=current_user, origin=origin))

    @post("/{request_id:uuid}/decisions", operation_id="DecideApprovalRequest", status_code=200)
    async def decide(
        self,
        request_id: RequestId,
        data: JSONBody[DecisionCreate],
        requests: RequestsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> RequestDetail:
        """Approve, reject or request changes on the current step, as an approver or their delegate.

        Errors: ``403 own_request``, ``403 not_an_approver``, ``409 request_closed`` (no longer pending),
        ``409 already_decided``, ``409 step_decided`` (the step was completed by others meanwhile),
        ``422 comment_required`` (changes without a comment), ``404 not_found``.
        """
        return await requests.detail(await requests.decide(request_id, data, actor=current_user, origin=origin))

    @post("/{request_id:uuid}/cancel", operation_id="CancelApprovalRequest", status_code=200)
    async def cancel(
        self, request_id: RequestId, requests: RequestsDep, current_user: CallerDep, origin: OriginDep
    ) -> RequestDetail:
        """Withdraw an open request (its requester or ``approvals:manage``: ``403 not_requester``;
        ``409 request_closed``)."""
        return await requests.detail(await requests.cancel(request_id, actor=current_user, origin=origin))

    @post("/{request_id:uuid}/resubmit", operation_id="ResubmitApprovalRequest", status_code=200)
    async def resubmit(
        self,
        request_id: RequestId,
        data: JSONBody[Resubmission],
        requests: RequestsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> RequestDetail:
        """Send a request back for approval after changes were requested; it starts again from the first step
        (``403 not_requester``, ``409 request_closed`` unless changes were requested)."""
        return await requests.detail(await requests.resubmit(request_id, data, actor=current_user, origin=origin))

    @post("/{request_id:uuid}/comments", operation_id="CommentApprovalRequest", status_code=201)
    async def comment(
        self,
        request_id: RequestId,
        data: JSONBody[CommentCreate],
        requests: RequestsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> EventResponse:
        """Add a comment to the request's history (anyone who may read the request)."""
        return event_response(await requests.comment(request_id, data, actor=current_user, origin=origin))
