"""Approval requests as the HTTP API sees them: who may see which, lists per role, details, and the caller's
moves (submit a custom kind, decide, cancel, resubmit, comment) handed to the state machine."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import exists, select

from api.approvals import schemas
from api.approvals.services import flow
from api.approvals.services.approvers import delegators_of
from api.approvals.services.subjects import subject_handler
from api.auth.permissions import Permission
from api.errors import AppError
from api.workplaces.base import FieldService, equal_to, utc_now
from persistence.models import ApprovalApprover, ApprovalEvent, ApprovalRequest

if TYPE_CHECKING:
    from uuid import UUID

    from api.audit import Origin
    from api.auth.principal import CurrentUser

Scope = Literal["mine", "to_decide", "all"]


class RequestService(FieldService[ApprovalRequest]):
    """The tenant's approval requests, as one caller may see and move them."""

    class Repo(SQLAlchemyAsyncRepository[ApprovalRequest]):
        model_type = ApprovalRequest

    repository_type = Repo

    async def page(
        self,
        *,
        actor: CurrentUser,
        scope: Scope,
        status: str | None,
        kind: str | None,
        limit: int,
        offset: int,
    ) -> tuple[Sequence[ApprovalRequest], int]:
        """``mine``: the caller's requests; ``to_decide``: pending ones waiting on the caller (or on someone
        they stand in for); ``all``: every request (``approvals:manage``, ``403 forbidden`` otherwise)."""
        filters: list[Any] = equal_to(status=status, kind=kind)
        if scope == "mine":
            filters.append(ApprovalRequest.requester_id == actor.id)
        elif scope == "to_decide":
            seats = {actor.id} | await delegators_of(self.session, actor.id, utc_now())
            filters.append(ApprovalRequest.status == "pending")
            filters.append(
                exists().where(
                    ApprovalApprover.request_id == ApprovalRequest.id,
                    ApprovalApprover.step == ApprovalRequest.current_step,
                    ApprovalApprover.approver_id.in_(seats),
                    ApprovalApprover.decision.is_(None),
                )
            )
        elif not actor.can(Permission.APPROVALS_MANAGE):
            raise AppError("forbidden", "Listing every request needs 'approvals:manage'.", status_code=403)
        order = [OrderBy("created_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def visible(self, request_id: UUID, actor: CurrentUser) -> ApprovalRequest:
        """The request if the caller is its requester, one of its approvers, standing in for one, or manages
        approvals; ``not_found`` (404) otherwise, as for an id of another tenant."""
        request = await self.session.get(ApprovalRequest, request_id)
        if request is None or not await self._may_see(request, actor):
            raise AppError("not_found", "No approval request with this id.", status_code=404)
        return request

    async def detail(self, request: ApprovalRequest) -> schemas.RequestDetail:
        approvers = await self.session.scalars(
            select(ApprovalApprover)
            .where(ApprovalApprover.request_id == request.id)
            .order_by(ApprovalApprover.step, ApprovalApprover.approver_id)
        )
        events = await self.session.scalars(
            select(ApprovalEvent).where(ApprovalEvent.request_id == request.id).order_by(ApprovalEvent.id)
        )
        return schemas.RequestDetail(
            **_summary(request),
            steps=flow.steps_of(request),
            approvers=[
                schemas.ApproverResponse(
                    step=a.step,
                    approver_id=a.approver_id,
                    escalated=a.escalated,
                    decision=a.decision,
                    decided_at=a.decided_at,
                    acted_by=a.acted_by,
                )
                for a in approvers
            ],
            events=[schemas.event_response(e) for e in events],
        )

    async def submit_custom(
        self, data: schemas.RequestCreate, *, actor: CurrentUser, origin: Origin
    ) -> ApprovalRequest:
        """Start a request of a custom kind (built-in kinds come from their own domains).

        Raises:
            AppError: ``reserved_kind`` (422) for a built-in kind or one a domain handles;
                ``forbidden`` (403) to name another requester without ``approvals:manage``;
                and :func:`flow.submit`'s errors.
        """
        if data.kind in schemas.BUILTIN_KINDS or subject_handler(data.kind) is not None:
            raise AppError(
                "reserved_kind",
                f"Requests of {data.kind!r} are submitted by their own domain.",
                status_code=422,
                details={"kind": data.kind},
            )
        requester_id = data.requester_id or actor.id
        if requester_id != actor.id and not actor.can(Permission.APPROVALS_MANAGE):
            raise AppError("forbidden", "Submitting for someone else needs 'approvals:manage'.", status_code=403)
        return await flow.submit(
            self.session,
            tenant_id=actor.tenant_id,
            kind=data.kind,
            subject_id=data.subject_id,
            requester_id=requester_id,
            title=data.title,
            payload=data.payload,
            submitted_by=actor.id,
            origin=origin,
        )

    async def decide(
        self, request_id: UUID, data: schemas.DecisionCreate, *, actor: CurrentUser, origin: Origin
    ) -> ApprovalRequest:
        return await flow.decide(
            self.session,
            request_id=request_id,
            actor_id=actor.id,
            decision=data.decision,
            comment=data.comment,
            origin=origin,
        )

    async def cancel(self, request_id: UUID, *, actor: CurrentUser, origin: Origin) -> ApprovalRequest:
        return await flow.cancel(
            self.session,
            request_id=request_id,
            actor_id=actor.id,
            may_manage=actor.can(Permission.APPROVALS_MANAGE),
            origin=origin,
        )

    async def resubmit(
        self, request_id: UUID, data: schemas.Resubmission, *, actor: CurrentUser, origin: Origin
    ) -> ApprovalRequest:
        return await flow.resubmit(
            self.session,
            request_id=request_id,
            actor_id=actor.id,
            title=None if data.title is msgspec.UNSET else data.title,
            payload=None if data.payload is msgspec.UNSET else data.payload,
            comment=data.comment,
            origin=origin,
        )

    async def comment(
        self, request_id: UUID, data: schemas.CommentCreate, *, actor: CurrentUser, origin: Origin
    ) -> ApprovalEvent:
        """Add a comment to the request's history (anyone who may see it, whatever its status)."""
        request = await self.visible(request_id, actor)
        event = flow.note_event(self.session, request, "commented", utc_now(), actor_id=actor.id, comment=data.body)
        flow.audit_request(self.session, request, "approval.comment", actor.id, origin)
        await self.session.flush()
        return event

    async def _may_see(self, request: ApprovalRequest, actor: CurrentUser) -> bool:
        if request.requester_id == actor.id or actor.can(Permission.APPROVALS_MANAGE):
            return True
        seats = {actor.id} | await delegators_of(self.session, actor.id, utc_now())
        seated = await self.session.scalar(
            select(ApprovalApprover.id)
            .where(ApprovalApprover.request_id == request.id, ApprovalApprover.approver_id.in_(seats))
            .limit(1)
        )
        return seated is not None


def _summary(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": request.id,
        "kind": request.kind,
        "title": request.title,
        "status": request.status,
        "requester_id": request.requester_id,
        "current_step": request.current_step,
        "step_count": len(request.steps),
        "expires_at": request.expires_at,
        "version": request.version,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "payload": request.payload,
        "subject_id": request.subject_id,
        "submitted_by": request.submitted_by,
        "decided_at": request.decided_at,
        "decided_by": request.decided_by,
    }


def request_response(request: ApprovalRequest) -> schemas.RequestResponse:
    return schemas.RequestResponse(**_summary(request))
