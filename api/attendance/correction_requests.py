"""Corrections people ask for on their own attendance: each waits for approval (kind ``attendance_correction``)
and changes the entry only once the request is finally approved.

A pending correction is its approval request: the ``subject_id`` is the correction's own id and the ``payload``
holds the entry, the times asked for and the reason, so approvers see exactly what they decide. The times are
checked when asked for and again when approved (the entry may have moved since); a correction that no longer
fits then refuses the approval, which the approver rejects instead. One correction at a time per entry.

:func:`apply_decision` is the decision hook :mod:`api.approvals.subjects_registry` registers: approved applies
the correction through :func:`api.attendance.corrections.apply_correction` (audited, overtime recomputed);
rejected, cancelled or expired changes nothing but is audited and told to the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import select
from uuid_utils.compat import uuid7

from api.approvals.services import submit
from api.approvals.services.flow import OPEN
from api.attendance.corrections import apply_correction, corrected_times, require_times
from api.attendance.schemas import CorrectionRequestResponse
from api.attendance.services import lock_person
from api.audit import Origin, record
from api.errors import AppError
from delivery.notify import Recipients, notify
from persistence.models import ApprovalRequest, AttendanceRecord, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.services.subjects import Outcome
    from api.attendance.schemas import Correction
    from api.auth.principal import CurrentUser

APPROVAL_KIND = "attendance_correction"
"""The kind of approval request a correction waits on (its ``subject_id`` is the correction's id)."""


class Asked(msgspec.Struct, kw_only=True, frozen=True):
    """What a correction asks for, as kept in its approval request's payload."""

    attendance_id: UUID
    reason: str
    clock_in_at: datetime | None = None
    clock_out_at: datetime | None = None


def correction_response(request: ApprovalRequest) -> CorrectionRequestResponse:
    asked = msgspec.convert(request.payload, Asked)
    assert request.subject_id is not None
    return CorrectionRequestResponse(
        id=request.subject_id,
        approval_request_id=request.id,
        attendance_id=asked.attendance_id,
        status=request.status,
        reason=asked.reason,
        clock_in_at=asked.clock_in_at,
        clock_out_at=asked.clock_out_at,
    )


async def request_correction(
    session: AsyncSession, attendance_id: UUID, data: Correction, *, actor: CurrentUser, origin: Origin
) -> ApprovalRequest:
    """Ask for new times on one's own entry; nothing changes until the approval request submitted with it
    is approved.

    Raises:
        AppError: ``not_found`` (404), also for someone else's entry; ``nothing_to_correct`` /
            ``naive_datetime`` / ``in_future`` / ``invalid_range`` (422); ``overlapping_attendance`` /
            ``breaks_outside`` (409); ``correction_pending`` (409) while another correction of the entry
            waits; ``no_workflow`` / ``no_approvers`` (422) when the tenant's workflow finds nobody to approve it.
    """
    require_times(data.clock_in_at, data.clock_out_at)
    entry = await session.scalar(
        select(AttendanceRecord).where(AttendanceRecord.id == attendance_id, AttendanceRecord.user_id == actor.id)
    )
    if entry is None:
        raise AppError(
            "not_found", "No attendance of yours with this id.", status_code=404, details={"field": "attendance_id"}
        )
    await lock_person(session, actor.id)
    clock_in, clock_out = await corrected_times(session, entry, data.clock_in_at, data.clock_out_at)
    waiting = await session.scalar(
        select(ApprovalRequest.id).where(
            ApprovalRequest.kind == APPROVAL_KIND,
            ApprovalRequest.status.in_(OPEN),
            ApprovalRequest.payload["attendance_id"].astext == str(entry.id),
        )
    )
    if waiting is not None:
        raise AppError(
            "correction_pending",
            "A correction of this entry already waits for approval.",
            status_code=409,
            details={"approval_request_id": str(waiting)},
        )
    asked = Asked(
        attendance_id=entry.id,
        reason=data.reason,
        clock_in_at=None if data.clock_in_at is None else clock_in,
        clock_out_at=None if data.clock_out_at is None else clock_out,
    )
    name = await session.scalar(select(User.name).where(User.id == actor.id))
    payload = msgspec.to_builtins(asked) | {
        "before": {"clock_in_at": _iso(entry.clock_in_at), "clock_out_at": _iso(entry.clock_out_at)}
    }
    request = await submit(
        session,
        tenant_id=actor.tenant_id,
        kind=APPROVAL_KIND,
        subject_id=uuid7(),
        requester_id=actor.id,
        title=f"Attendance correction: {name}, entry of {entry.clock_in_at:%Y-%m-%d %H:%M} UTC"[:200],
        payload=payload,
        origin=origin,
    )
    record(
        session,
        tenant_id=actor.tenant_id,
        action="attendance.correction.request",
        actor_user_id=actor.id,
        origin=origin,
        target_type="attendance",
        target_id=entry.id,
        details={"correction_id": str(request.subject_id), **payload},
    )
    return request


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Follow the final decision on correction ``request_id`` in the caller's transaction (which runs as the
    tenant): approved applies it to the entry; any other outcome changes nothing but is audited and told.

    Raises:
        AppError: ``not_found`` (404) when no correction or entry has this id; ``correction_invalid`` (409)
            when the request names an entry that is not its requester's; the errors of
            :func:`api.attendance.corrections.corrected_times` when the times no longer fit the entry.
    """
    request = await session.scalar(
        select(ApprovalRequest).where(ApprovalRequest.kind == APPROVAL_KIND, ApprovalRequest.subject_id == request_id)
    )
    if request is None:
        raise AppError("not_found", "No attendance correction with this id.", status_code=404)
    try:
        asked = msgspec.convert(request.payload, Asked)
    except msgspec.ValidationError as error:
        raise AppError("correction_invalid", f"This correction cannot be read: {error}", status_code=409) from error
    entry = await session.scalar(
        select(AttendanceRecord).where(AttendanceRecord.id == asked.attendance_id).with_for_update()
    )
    if entry is None:
        raise AppError("not_found", "The corrected attendance no longer exists.", status_code=404)
    if entry.user_id != request.requester_id:
        # A requester's payload (which a resubmission may replace) never reaches someone else's entry.
        raise AppError("correction_invalid", "This correction names someone else's attendance.", status_code=409)
    details = {"correction_id": str(request_id), "approval_request_id": str(request.id), "outcome": outcome}
    if outcome == "approved":
        await apply_correction(
            session,
            entry,
            clock_in_at=asked.clock_in_at,
            clock_out_at=asked.clock_out_at,
            reason=asked.reason,
            actor_id=decided_by,
            origin=Origin(),
            details=details,
        )
        return
    record(
        session,
        tenant_id=entry.tenant_id,
        action=f"attendance.correction.{outcome}",
        actor_user_id=decided_by,
        origin=Origin(),
        target_type="attendance",
        target_id=entry.id,
        details=details,
    )
    await notify(
        session,
        tenant_id=entry.tenant_id,
        recipients=Recipients(users=[entry.user_id]),
        category="shift",
        title=f"Attendance correction {outcome}: entry of {entry.clock_in_at:%Y-%m-%d}",
        body=f"Nothing was changed. Reason given: {asked.reason}"[:4000],
        link="/attendance",
        data={"attendance_id": str(entry.id), "correction_id": str(request_id), "outcome": outcome},
        idempotency_key=f"attendance-correction-decision:{request_id}:{outcome}",
    )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
