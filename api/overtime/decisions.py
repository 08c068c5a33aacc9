"""The approval hook of overtime: the approvals engine calls :func:`apply_decision` with its outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from api.audit import Origin, record
from api.errors import AppError
from api.workplaces.base import utc_now
from delivery.notify import Recipients, notify
from persistence.models import OvertimeRecord

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
"""An approval's outcome and the status it gives the overtime: an expired approval withdraws the claim."""


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Move pending overtime ``request_id`` to its final status in the caller's transaction (which runs as
    the tenant), audit it and tell the person. Repeating the same outcome changes nothing.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it was already given another status.
    """
    row: OvertimeRecord | None = await session.scalar(
        select(OvertimeRecord).where(OvertimeRecord.id == request_id).with_for_update()
    )
    if row is None:
        raise AppError("not_found", "No overtime with this id.", status_code=404, details={"field": "request_id"})
    status = STATUS_OF[outcome]
    if row.status == status and row.decided_at is not None:
        return
    if row.status != "pending":
        raise AppError(
            "not_pending", "This overtime was decided already.", status_code=409, details={"status": row.status}
        )
    row.status, row.decided_by, row.decided_at = status, decided_by, utc_now()
    await session.flush()
    record(
        session,
        tenant_id=row.tenant_id,
        action=f"overtime.{outcome}",
        actor_user_id=decided_by,
        origin=Origin(),
        target_type="overtime",
        target_id=row.id,
        details={"minutes": row.minutes, "kind": row.kind, "period_start": row.period_start.isoformat()},
    )
    hours, minutes = divmod(row.minutes, 60)
    await notify(
        session,
        tenant_id=row.tenant_id,
        recipients=Recipients(users=[row.user_id]),
        category="approval",
        title=f"Overtime {outcome}: {hours}h{minutes:02d} ({row.kind.replace('_', ' ')}, {row.period_start})",
        body="",
        link="/overtime",
        data={"overtime_id": str(row.id), "outcome": outcome},
        idempotency_key=f"overtime-decision:{row.id}:{outcome}",
    )
