"""The request state machine: submit, decide, cancel, resubmit; steps start, complete and end the request.

::

    pending --approve (last step done)--> approved
    pending --reject--> rejected
    pending --request_changes--> changes_requested --resubmit--> pending (from the first step)
    pending | changes_requested --cancel--> cancelled
    pending | changes_requested --past expires_at--> expired   (the sweep, :mod:`.timeouts`)

Every change locks the request row first (``SELECT ... FOR UPDATE``), so two approvers acting at once
are served one after the other: the second sees the request as the first left it and gets a conflict.
The final decision calls the kind's subject handler in the same transaction. Everything here runs in
the caller's transaction, as the caller's tenant; nothing commits on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import delete, select

from api.approvals.schemas import MAX_PAYLOAD_BYTES, Step
from api.approvals.services.approvers import Requester, delegators_of, requester_of, resolve_step
from api.approvals.services.notices import ask, tell_requester
from api.approvals.services.subjects import subject_handler
from api.audit import Origin, record
from api.errors import AppError
from persistence.models import ApprovalApprover, ApprovalEvent, ApprovalRequest, ApprovalWorkflow

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.schemas import DecisionKind
    from api.approvals.services.subjects import Outcome

OPEN = ("pending", "changes_requested")
_DECIDED: dict[str, str] = {"approve": "approved", "reject": "rejected", "request_changes": "changes_requested"}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def steps_of(request: ApprovalRequest) -> list[Step]:
    return msgspec.convert(request.steps, list[Step])


async def submit(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    kind: str,
    subject_id: UUID | None,
    requester_id: UUID,
    title: str,
    payload: dict[str, Any] | None = None,
    submitted_by: UUID | None = None,
    origin: Origin | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Start a request of ``kind`` through the tenant's workflow; its first approvers are notified.

    Domain packages call this inside their own transaction (which runs as ``tenant_id``), so the
    domain object and its request exist together or not at all.

    Raises:
        AppError: ``no_workflow`` (422) when the tenant has no active workflow for ``kind``;
            ``not_found`` (404) for a requester not in the tenant; ``payload_too_large`` (422);
            ``no_approvers`` (422) when no step finds anyone to approve.
    """
    now = _now(now)
    payload = payload or {}
    if len(msgspec.json.encode(payload)) > MAX_PAYLOAD_BYTES:
        raise AppError(
            "payload_too_large", f"payload must encode to at most {MAX_PAYLOAD_BYTES} bytes.", status_code=422
        )
    workflow = await session.scalar(
        select(ApprovalWorkflow).where(ApprovalWorkflow.kind == kind, ApprovalWorkflow.active.is_(True))
    )
    if workflow is None:
        raise AppError(
            "no_workflow", f"No active approval workflow for {kind!r}.", status_code=422, details={"kind": kind}
        )
    requester = await requester_of(session, requester_id, active=True)
    if requester is None:
        raise AppError("not_found", "No requester with this id.", status_code=404, details={"field": "requester_id"})
    request = ApprovalRequest(
        tenant_id=tenant_id,
        workflow_id=workflow.id,
        kind=kind,
        subject_id=subject_id,
        title=title,
        payload=payload,
        requester_id=requester_id,
        submitted_by=submitted_by or requester_id,
        status="pending",
        steps=list(workflow.steps),
        current_step=0,
        step_started_at=now,
        nudges=0,
        next_nudge_at=now,
        expires_at=now + timedelta(seconds=workflow.expires_after_seconds),
        version=1,
    )
    session.add(request)
    await session.flush()
    note_event(session, request, "submitted", now, actor_id=submitted_by or requester_id)
    if not await _enter_step(session, request, 0, requester, now):
        raise AppError(
            "no_approvers",
            "Nobody can approve this request: every step of the workflow finds no approver.",
            status_code=422,
            details={"kind": kind},
        )
    audit_request(session, request, "approval.submit", submitted_by or requester_id, origin, {"kind": kind})
    return request


async def decide(
    session: AsyncSession,
    *,
    request_id: UUID,
    actor_id: UUID,
    decision: DecisionKind,
    comment: str = "",
    origin: Origin | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Record ``actor_id``'s decision on the request's current step, for themselves or as a delegate.

    Raises:
        AppError: ``not_found`` (404); ``request_closed`` (409) when no longer pending;
            ``own_request`` (403); ``not_an_approver`` (403) when neither an approver of the current
            step nor standing in for one; ``already_decided`` (409) when that approver decided already;
            ``step_decided`` (409) for an approver of a step already completed by others;
            ``comment_required`` (422) to request changes without saying which.
    """
    now = _now(now)
    request = await lock_request(session, request_id)
    if request.status != "pending":
        raise closed(request)
    if actor_id == request.requester_id:
        raise AppError("own_request", "Nobody approves their own request.", status_code=403)
    if decision == "request_changes" and not comment.strip():
        raise AppError(
            "comment_required", "Say which changes are needed.", status_code=422, details={"field": "comment"}
        )
    seat = await _seat(session, request, actor_id, now)
    seat.decision, seat.decided_at, seat.acted_by = _DECIDED[decision], now, actor_id
    on_behalf_of = seat.approver_id if seat.approver_id != actor_id else None
    request.version += 1
    note_event(session, request, _DECIDED[decision], now, actor_id=actor_id, on_behalf_of=on_behalf_of, comment=comment)
    audit_request(
        session,
        request,
        f"approval.{decision}",
        actor_id,
        origin,
        {"step": request.current_step, "on_behalf_of": str(on_behalf_of) if on_behalf_of else None},
    )
    if decision == "reject":
        await _finish(session, request, "rejected", actor_id, now, comment)
    elif decision == "request_changes":
        request.status = "changes_requested"
        await tell_requester(session, request, comment)
    elif await _step_complete(session, request, seat):
        requester = await _requester(session, request)
        if not await _enter_step(session, request, request.current_step + 1, requester, now):
            await _finish(session, request, "approved", actor_id, now, comment)
    await session.flush()
    return request


async def cancel(
    session: AsyncSession,
    *,
    request_id: UUID,
    actor_id: UUID | None,
    may_manage: bool = False,
    origin: Origin | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Withdraw an open request (its requester, a manager of approvals, or a domain with ``actor_id=None``).

    Raises:
        AppError: ``not_found`` (404); ``request_closed`` (409); ``not_requester`` (403).
    """
    request = await lock_request(session, request_id)
    return await cancel_locked(session, request, actor_id=actor_id, may_manage=may_manage, origin=origin, now=now)


async def cancel_locked(
    session: AsyncSession,
    request: ApprovalRequest,
    *,
    actor_id: UUID | None,
    may_manage: bool = False,
    origin: Origin | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """:func:`cancel` of a request the caller locked already in this transaction (:func:`lock_open_request`).

    The requester is told unless they withdrew it themselves.

    Raises:
        AppError: ``request_closed`` (409); ``not_requester`` (403).
    """
    now = _now(now)
    if request.status not in OPEN:
        raise closed(request)
    if actor_id is not None and actor_id != request.requester_id and not may_manage:
        raise AppError("not_requester", "Only the requester may cancel this request.", status_code=403)
    request.version += 1
    note_event(session, request, "cancelled", now, actor_id=actor_id)
    audit_request(session, request, "approval.cancel", actor_id, origin)
    await _finish(session, request, "cancelled", actor_id, now, tell=actor_id != request.requester_id)
    return request


async def resubmit(
    session: AsyncSession,
    *,
    request_id: UUID,
    actor_id: UUID,
    title: str | None = None,
    payload: dict[str, Any] | None = None,
    comment: str = "",
    origin: Origin | None = None,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Send a request back for approval from its first step after the requester made the changes asked.

    Raises:
        AppError: ``not_found`` (404); ``not_requester`` (403); ``request_closed`` (409) unless
            changes were requested; ``no_approvers`` (422).
    """
    now = _now(now)
    request = await lock_request(session, request_id)
    if actor_id != request.requester_id:
        raise AppError("not_requester", "Only the requester may resubmit this request.", status_code=403)
    if request.status != "changes_requested":
        raise closed(request)
    if title is not None:
        request.title = title
    if payload is not None:
        request.payload = payload
    await session.execute(delete(ApprovalApprover).where(ApprovalApprover.request_id == request.id))
    request.status = "pending"
    request.version += 1
    note_event(session, request, "resubmitted", now, actor_id=actor_id, comment=comment)
    if not await _enter_step(session, request, 0, await _requester(session, request), now):
        raise AppError("no_approvers", "Nobody can approve this request.", status_code=422)
    audit_request(session, request, "approval.resubmit", actor_id, origin)
    return request


async def expire(session: AsyncSession, request: ApprovalRequest, now: datetime) -> None:
    """End an open request (locked by the caller) that is past its expiry."""
    request.version += 1
    note_event(session, request, "expired", now)
    audit_request(session, request, "approval.expire", None, None)
    await _finish(session, request, "expired", None, now)


async def lock_request(session: AsyncSession, request_id: UUID) -> ApprovalRequest:
    """The request, locked until the transaction ends; ``not_found`` (404) when not in the tenant."""
    request = await session.scalar(select(ApprovalRequest).where(ApprovalRequest.id == request_id).with_for_update())
    if request is None:
        raise AppError("not_found", "No approval request with this id.", status_code=404)
    return request


async def lock_open_request(session: AsyncSession, *, kind: str, subject_id: UUID) -> ApprovalRequest | None:
    """The open request of ``kind`` about the domain object ``subject_id``, locked until the transaction ends;
    ``None`` when none is open.

    A domain withdrawing its object calls this before locking the object, in the order a decision takes
    (request, then subject), so a withdrawal and a decision at once wait for each other instead of deadlocking.
    """
    statement = select(ApprovalRequest).where(
        ApprovalRequest.kind == kind, ApprovalRequest.subject_id == subject_id, ApprovalRequest.status.in_(OPEN)
    )
    request: ApprovalRequest | None = await session.scalar(statement.with_for_update())
    return request


async def enter_approvers(
    session: AsyncSession, request: ApprovalRequest, approver_ids: list[UUID], *, escalated: bool
) -> None:
    """Seat ``approver_ids`` on the request's current step."""
    for approver_id in approver_ids:
        session.add(
            ApprovalApprover(
                tenant_id=request.tenant_id,
                request_id=request.id,
                step=request.current_step,
                approver_id=approver_id,
                escalated=escalated,
            )
        )
    await session.flush()


# -- steps ----------------------------------------------------------------------------------------


async def _requester(session: AsyncSession, request: ApprovalRequest) -> Requester:
    requester = await requester_of(session, request.requester_id)
    if requester is None:  # the foreign key keeps the requester while the request exists
        raise AppError("not_found", "No requester with this id.", status_code=404)
    return requester


async def _enter_step(
    session: AsyncSession, request: ApprovalRequest, start: int, requester: Requester, now: datetime
) -> bool:
    """Start the first step from ``start`` that finds approvers (steps finding nobody are skipped).

    Returns:
        False when no step from ``start`` on finds anyone.
    """
    steps = steps_of(request)
    for index in range(start, len(steps)):
        approvers = await resolve_step(session, steps[index], requester)
        if not approvers:
            note_event(session, request, "step_skipped", now, details={"step": index, "rule": steps[index].rule})
            continue
        request.current_step = index
        request.step_started_at = now
        request.nudges = 0
        request.next_nudge_at = now + timedelta(seconds=steps[index].timeout_seconds)
        await enter_approvers(session, request, approvers, escalated=False)
        note_event(
            session, request, "step_started", now, details={"step": index, "approvers": [str(a) for a in approvers]}
        )
        await ask(session, request, approvers, reason="new", now=now)
        return True
    return False


async def _seat(session: AsyncSession, request: ApprovalRequest, actor_id: UUID, now: datetime) -> ApprovalApprover:
    """The approver seat ``actor_id`` acts from on the current step: their own, else one they stand in for."""
    seats = list(
        (
            await session.scalars(
                select(ApprovalApprover)
                .where(ApprovalApprover.request_id == request.id, ApprovalApprover.step == request.current_step)
                .order_by(ApprovalApprover.approver_id)
            )
        ).all()
    )
    own = next((s for s in seats if s.approver_id == actor_id), None)
    if own is not None:
        if own.decision is not None:
            raise AppError("already_decided", "You decided on this step already.", status_code=409)
        return own
    represented = await delegators_of(session, actor_id, now)
    standing_in = [s for s in seats if s.approver_id in represented]
    open_seat = next((s for s in standing_in if s.decision is None), None)
    if open_seat is not None:
        return open_seat
    if standing_in:
        raise AppError("already_decided", "The approver you stand in for decided already.", status_code=409)
    earlier = await session.scalar(
        select(ApprovalApprover.id).where(
            ApprovalApprover.request_id == request.id,
            ApprovalApprover.approver_id == actor_id,
            ApprovalApprover.step < request.current_step,
        )
    )
    if earlier is not None:
        raise AppError("step_decided", "Your step was decided already.", status_code=409)
    raise AppError("not_an_approver", "You are not an approver of this request's current step.", status_code=403)


async def _step_complete(session: AsyncSession, request: ApprovalRequest, seat: ApprovalApprover) -> bool:
    """``any``: one approval; ``all``: every approver the rule named. An escalated approver's approval suffices."""
    if seat.escalated or steps_of(request)[request.current_step].quorum == "any":
        return True
    waiting = await session.scalar(
        select(ApprovalApprover.id).where(
            ApprovalApprover.request_id == request.id,
            ApprovalApprover.step == request.current_step,
            ApprovalApprover.escalated.is_(False),
            ApprovalApprover.decision.is_distinct_from("approved"),
        )
    )
    return waiting is None


async def _finish(
    session: AsyncSession,
    request: ApprovalRequest,
    outcome: Outcome,
    decided_by: UUID | None,
    now: datetime,
    comment: str = "",
    *,
    tell: bool = True,
) -> None:
    request.status = outcome
    request.decided_at = now
    request.decided_by = decided_by
    handler = subject_handler(request.kind)
    if handler is not None and request.subject_id is not None:
        await handler(session, request_id=request.subject_id, outcome=outcome, decided_by=decided_by)
    if tell:
        await tell_requester(session, request, comment)


def closed(request: ApprovalRequest) -> AppError:
    """``request_closed`` (409): the request is no longer open to decisions."""
    return AppError(
        "request_closed",
        f"This request is {request.status.replace('_', ' ')}; nothing more can be decided.",
        status_code=409,
        details={"status": request.status},
    )


def note_event(
    session: AsyncSession,
    request: ApprovalRequest,
    kind: str,
    now: datetime,
    *,
    actor_id: UUID | None = None,
    on_behalf_of: UUID | None = None,
    comment: str = "",
    details: dict[str, Any] | None = None,
) -> ApprovalEvent:
    """Add a line to the request's history, at its current step."""
    event = ApprovalEvent(
        tenant_id=request.tenant_id,
        request_id=request.id,
        occurred_at=now,
        kind=kind,
        step=request.current_step,
        actor_id=actor_id,
        on_behalf_of=on_behalf_of,
        comment=comment,
        details=details or {},
    )
    session.add(event)
    return event


def audit_request(
    session: AsyncSession,
    request: ApprovalRequest,
    action: str,
    actor_id: UUID | None,
    origin: Origin | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a change to the request; ``actor_id`` ``None`` when the system made it (a timeout)."""
    record(
        session,
        tenant_id=request.tenant_id,
        action=action,
        actor_user_id=actor_id,
        origin=origin or Origin(),
        target_type="approval_request",
        target_id=request.id,
        details={"kind": request.kind, **(details or {})},
    )
