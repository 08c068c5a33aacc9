"""Service levels: each tenant's hours per priority (defaults until it sets its own), the due time they give a
request, and finding the requests that missed it.

A breach is reported once: the notification's idempotency key names the request and its due time,
and ``breached_at`` marks it done, so a later run (or a second worker) does not report it again. A
request whose due time moves (a new priority) can breach again, once, at its new due time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import select

from api.workplaces.audience import workplace_supervisors
from delivery.notify import Recipients, notify
from persistence.models import Asset, MaintenanceRequest, MaintenanceSla

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.maintenance.schemas import SlaHours

DEFAULT_HOURS: Final[dict[str, int]] = {"low": 168, "normal": 72, "high": 24, "urgent": 4}
"""Hours to the due time by priority for a tenant that set none: a week, three days, a day, four hours."""
ACTIVE: Final = ("open", "in_progress", "on_hold")
"""Statuses in which the clock runs."""
BATCH: Final = 500


async def sla_policy(session: AsyncSession) -> tuple[MaintenanceSla | None, dict[str, int]]:
    """The tenant's own SLA row (``None`` when it set none) and the hours per priority in force."""
    row = await session.scalar(select(MaintenanceSla))
    if row is None:
        return None, dict(DEFAULT_HOURS)
    return row, {priority: getattr(row, f"{priority}_hours") for priority in DEFAULT_HOURS}


async def set_sla_policy(
    session: AsyncSession, *, tenant_id: UUID, hours: SlaHours, actor_id: UUID
) -> tuple[MaintenanceSla, dict[str, int]]:
    """Replace the tenant's hours per priority; requests made from now on are due by them."""
    row = await session.scalar(select(MaintenanceSla).with_for_update())
    if row is None:
        row = MaintenanceSla(tenant_id=tenant_id)
        session.add(row)
    in_force = {priority: int(getattr(hours, f"{priority}_hours")) for priority in DEFAULT_HOURS}
    for priority, value in in_force.items():
        setattr(row, f"{priority}_hours", value)
    row.updated_by = actor_id
    await session.flush()
    return row, in_force


async def due_at(session: AsyncSession, priority: str, requested_at: datetime) -> datetime:
    """When a request of ``priority`` made at ``requested_at`` is due under the tenant's SLA."""
    _, hours = await sla_policy(session)
    return requested_at + timedelta(hours=hours[priority])


async def report_breaches(session: AsyncSession, *, tenant_id: UUID, now: datetime) -> int:
    """Notify the assignee and the workplace's supervisors of each active request past its due time at
    ``now`` and not reported yet (at most ``BATCH`` per call; the next run takes the rest).

    Returns:
        How many breaches were reported.
    """
    rows = await session.scalars(
        select(MaintenanceRequest)
        .where(
            MaintenanceRequest.status.in_(ACTIVE),
            MaintenanceRequest.breached_at.is_(None),
            MaintenanceRequest.due_at <= now,
        )
        .order_by(MaintenanceRequest.due_at, MaintenanceRequest.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    breached = list(rows.all())
    for request in breached:
        people = await _responsible(session, request)
        if people:
            await notify(
                session,
                tenant_id=tenant_id,
                recipients=Recipients(users=people),
                category="task",
                title=f"Maintenance overdue: {request.title}"[:200],
                body=f"Due {request.due_at.isoformat()} ({request.priority} priority), still {request.status}.",
                priority="high",
                link=f"/maintenance/{request.id}",
                data={"maintenance_id": str(request.id), "due_at": request.due_at.isoformat()},
                idempotency_key=f"maintenance.breach:{request.id}:{request.due_at.isoformat()}",
            )
        request.breached_at = now
    await session.flush()
    return len(breached)


async def _responsible(session: AsyncSession, request: MaintenanceRequest) -> list[UUID]:
    """The assignee and the supervisors of the request's workplace (the asset's, for a request on an asset)."""
    workplace_id = request.workplace_id
    if workplace_id is None:
        workplace_id = await session.scalar(select(Asset.workplace_id).where(Asset.id == request.asset_id))
    people = await workplace_supervisors(session, workplace_id) if workplace_id else []
    if request.assignee_id is not None:
        people.insert(0, request.assignee_id)
    return list(dict.fromkeys(people))
