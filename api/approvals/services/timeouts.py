"""Timeouts, run by the worker's periodic sweep: remind a step's approvers, escalate to the managers above,
and expire requests past their expiry. Each change, its notifications and its audit commit together."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import or_, select

from api.approvals.services.approvers import managers_of
from api.approvals.services.flow import OPEN, audit_request, enter_approvers, expire, note_event, steps_of
from api.approvals.services.notices import ask
from persistence.models import ApprovalApprover, ApprovalRequest

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

BATCH = 200


class SweepReport(msgspec.Struct, kw_only=True):
    """What one sweep did."""

    reminded: int = 0
    escalated: int = 0
    expired: int = 0


async def sweep(session: AsyncSession, now: datetime) -> SweepReport:
    """Act on every open request of the session's tenant whose timeout or expiry has come by ``now``.

    Rows another sweep holds are skipped (``SKIP LOCKED``); they are that sweep's. At most
    :data:`BATCH` requests per call; the rest wait for the next one.
    """
    report = SweepReport()
    due = await session.scalars(
        select(ApprovalRequest)
        .where(
            ApprovalRequest.status.in_(OPEN),
            or_(
                ApprovalRequest.expires_at <= now,
                (ApprovalRequest.status == "pending") & (ApprovalRequest.next_nudge_at <= now),
            ),
        )
        .order_by(ApprovalRequest.next_nudge_at)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    for request in due.all():
        if request.expires_at <= now:
            await expire(session, request, now)
            report.expired += 1
        elif request.nudges == 0:
            await _remind(session, request, now)
            report.reminded += 1
        else:
            await _escalate(session, request, now)
            report.escalated += 1
    await session.flush()
    return report


async def _undecided(session: AsyncSession, request: ApprovalRequest) -> list[ApprovalApprover]:
    rows = await session.scalars(
        select(ApprovalApprover).where(
            ApprovalApprover.request_id == request.id,
            ApprovalApprover.step == request.current_step,
            ApprovalApprover.decision.is_(None),
        )
    )
    return list(rows.all())


def _next_timeout(request: ApprovalRequest) -> None:
    request.nudges += 1
    request.version += 1
    timeout = steps_of(request)[request.current_step].timeout_seconds
    request.next_nudge_at = request.step_started_at + timedelta(seconds=timeout * (request.nudges + 1))


async def _remind(session: AsyncSession, request: ApprovalRequest, now: datetime) -> None:
    waiting = sorted(a.approver_id for a in await _undecided(session, request))
    _next_timeout(request)
    notified = await ask(session, request, waiting, reason="reminder", now=now)
    details = {"step": request.current_step, "notified": [str(u) for u in notified]}
    note_event(session, request, "reminded", now, details=details)
    audit_request(session, request, "approval.remind", None, None, details)


async def _escalate(session: AsyncSession, request: ApprovalRequest, now: datetime) -> None:
    """Seat the managers of those who have not decided (the next level up each time) and ask them."""
    seated = await session.scalars(
        select(ApprovalApprover.approver_id).where(
            ApprovalApprover.request_id == request.id, ApprovalApprover.step == request.current_step
        )
    )
    taken = set(seated.all()) | {request.requester_id}
    waiting = [a.approver_id for a in await _undecided(session, request)]
    above = [m for m in await managers_of(session, waiting) if m not in taken]
    _next_timeout(request)
    await enter_approvers(session, request, above, escalated=True)
    notified = await ask(session, request, above, reason="escalation", now=now) if above else []
    details = {
        "step": request.current_step,
        "level": request.nudges - 1,
        "approvers": [str(u) for u in above],
        "notified": [str(u) for u in notified],
    }
    note_event(session, request, "escalated" if above else "escalation_unavailable", now, details=details)
    audit_request(session, request, "approval.escalate", None, None, details)
