"""The approval hook of overtime: the approvals engine calls :func:`apply_decision` with its outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api.approvals.services.subjects import settle_pending
from api.audit import Origin, record
from delivery.notify import Recipients, notify
from persistence.models import OvertimeRecord

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.services.subjects import Outcome


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Move pending overtime ``request_id`` to its final status in the caller's transaction (which runs as
    the tenant), audit it and tell the person. Repeating the same outcome changes nothing.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it was already given another status.
    """
    row: OvertimeRecord | None = await settle_pending(
        session,
        OvertimeRecord,
        request_id=request_id,
        outcome=outcome,
        decided_by=decided_by,
        missing="No overtime with this id.",
        decided="This overtime was decided already.",
    )
    if row is None:
        return
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
