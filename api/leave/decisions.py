"""The approval hook of leave: the approvals engine calls :func:`apply_decision` with its outcome.

Balances follow by themselves, being sums over requests: an approved request counts as taken, and a
rejected, cancelled or expired one no longer holds its pending days.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from api.approvals.services.subjects import settle_pending
from api.audit import Origin
from api.leave.services import audit_request, leave_dates
from delivery.notify import Recipients, notify
from persistence.models import LeaveRequest, LeaveType

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.services.subjects import Outcome


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Move pending leave request ``request_id`` to its final status in the caller's transaction (which runs as
    the tenant), audit it and tell the requester. Repeating the same outcome changes nothing.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it was already given another status.
    """
    row: LeaveRequest | None = await settle_pending(
        session,
        LeaveRequest,
        request_id=request_id,
        outcome=outcome,
        decided_by=decided_by,
        missing="No leave request with this id.",
        decided="This request was decided already.",
    )
    if row is None:
        return
    audit_request(session, row.tenant_id, decided_by, Origin(), f"leave.{outcome}", row)
    name = await session.scalar(select(LeaveType.name).where(LeaveType.id == row.leave_type_id))
    await notify(
        session,
        tenant_id=row.tenant_id,
        recipients=Recipients(users=[row.user_id]),
        category="leave",
        title=f"{name} {outcome}: {leave_dates(row)}"[:200],
        body=f"{row.days:g} working day(s).",
        link=f"/leave/requests/{row.id}",
        data={"request_id": str(row.id), "outcome": outcome},
        idempotency_key=f"leave-decision:{row.id}:{outcome}",
    )
