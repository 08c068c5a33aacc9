"""Overtime on its way to approval: each pending record is submitted as an approval request of kind ``overtime``.

Overtime is computed inside a clock-out or a correction, which must not fail because the tenant's overtime
workflow finds nobody to approve (no active workflow, no manager): the record then stays pending with no
request and the reason in its note, and is submitted again the next time its minutes change.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from api.approvals.services import submit
from api.errors import AppError
from persistence.models import User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.models import OvertimeRecord

log = logging.getLogger("fieldhub.overtime")

APPROVAL_KIND = "overtime"
"""The kind of approval request an overtime record waits on (its ``subject_id`` is the record's id)."""
_NOBODY = frozenset({"no_workflow", "no_approvers"})


async def ask_approval(session: AsyncSession, record: OvertimeRecord) -> bool:
    """Submit pending ``record`` (flushed) for approval in the caller's transaction.

    Returns:
        False when nobody can approve it (the record keeps waiting, with the reason in its note).

    Raises:
        AppError: any other refusal of :func:`api.approvals.services.submit`.
    """
    name = await session.scalar(select(User.name).where(User.id == record.user_id))
    try:
        # A savepoint: a refused submission leaves the clock-out or correction around it intact.
        async with session.begin_nested():
            await submit(
                session,
                tenant_id=record.tenant_id,
                kind=APPROVAL_KIND,
                subject_id=record.id,
                requester_id=record.user_id,
                title=f"Overtime: {name}, {record.kind.replace('_', ' ')} from {record.period_start}"[:200],
                payload={
                    "overtime_id": str(record.id),
                    "kind": record.kind,
                    "period_start": record.period_start.isoformat(),
                    "timezone": record.timezone,
                },
            )
    except AppError as refused:
        if refused.code not in _NOBODY:
            raise
        log.warning("overtime %s waits without approval: %s", record.id, refused.message)
        record.note = f"Not sent for approval: {refused.message}"
        return False
    record.note = ""
    return True
