"""The approval hook of leave: the approvals engine calls :func:`apply_decision` with its outcome.

Balances follow by themselves, being sums over requests: an approved request counts as taken, and a
rejected, cancelled or expired one no longer holds its pending days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from api.audit import Origin
from api.errors import AppError
from api.leave.services import audit_request
from api.workplaces.base import utc_now
from delivery.notify import Recipients, notify
from persistence.models import LeaveRequest, LeaveType

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

Outcome = Literal["approved", "rejected", "cancelled", "expired"]
STATUS_OF: dict[str, str] = {
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "expired": "cancelled",
}
"""An approval's outcome and the status it gives the request: an expired approval withdraws it."""


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Move pending leave request ``request_id`` to its final status in the caller's transaction (which runs as
    the tenant), audit it and tell the requester. Repeating the same outcome changes nothing.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it was already given another status.
    """
    row: LeaveRequest | None = await session.scalar(
        select(LeaveRequest).where(LeaveRequest.id == request_id).with_for_update()
    )
    if row is None:
        raise AppError("not_found", "No leave request with this id.", status_code=404, details={"field": "request_id"})
    status = STATUS_OF[outcome]
    if row.status == status and row.decided_at is not None:
        return
    if row.status != "pending":
        raise AppError(
            "not_pending", "This request was decided already.", status_code=409, details={"status": row.status}
        )
    row.status, row.decided_by, row.decided_at = status, decided_by, utc_now()
    await session.flush()
    audit_request(session, row.tenant_id, decided_by, Origin(), f"leave.{outcome}", row)
    name = await session.scalar(select(LeaveType.name).where(LeaveType.id == row.leave_type_id))
    dates = f"{row.start_date}" if row.start_date == row.end_date else f"{row.start_date} to {row.end_date}"
    half = "" if row.part == "full" else f" ({row.part.upper()})"
    await notify(
        session,
        tenant_id=row.tenant_id,
        recipients=Recipients(users=[row.user_id]),
        category="leave",
        title=f"{name} {outcome}: {dates}{half}"[:200],
        body=f"{row.days:g} working day(s).",
        link=f"/leave/requests/{row.id}",
        data={"request_id": str(row.id), "outcome": outcome},
        idempotency_key=f"leave-decision:{row.id}:{outcome}",
    )
