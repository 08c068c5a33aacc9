"""What the supervisor's board shows of incidents: the open ones, and a live event on each change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec
from sqlalchemy import case, select

from api.board.live import board_topic, queue_event
from persistence.models import Incident, Workplace

if TYPE_CHECKING:
    from collections.abc import Collection

    from sqlalchemy.ext.asyncio import AsyncSession

# Most severe first on the board.
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class IncidentOnBoard(msgspec.Struct, kw_only=True, tag_field="type", tag="board.incident"):
    """On the board: an incident was reported (``reported``) or moved to another status (``status``)."""

    incident_id: UUID
    change: Literal["reported", "status"]
    status: str
    severity: str
    incident_type: str
    occurred_at: datetime
    workplace_id: UUID | None = None


async def open_incidents(
    session: AsyncSession,
    *,
    workplace_ids: Collection[UUID] | None = None,
    department_id: UUID | None = None,
    limit: int = 200,
) -> list[Incident]:
    """The tenant's incidents not closed yet, most severe and then most recent first.

    Args:
        workplace_ids: only those at these workplaces (``None``: anywhere, even at none).
        department_id: only those at workplaces of this department.
        limit: at most this many.
    """
    rank = case(SEVERITY_RANK, value=Incident.severity, else_=len(SEVERITY_RANK))
    statement = select(Incident).where(Incident.status != "closed")
    if workplace_ids is not None:
        statement = statement.where(Incident.workplace_id.in_(list(workplace_ids)))
    if department_id is not None:
        statement = statement.join(Workplace, Workplace.id == Incident.workplace_id).where(
            Workplace.department_id == department_id
        )
    rows = await session.scalars(statement.order_by(rank, Incident.occurred_at.desc(), Incident.id).limit(limit))
    return list(rows.all())


def publish_change(session: AsyncSession, incident: Incident, change: Literal["reported", "status"]) -> None:
    """Put the incident's change on the tenant's board once the transaction commits."""
    queue_event(
        session,
        board_topic(incident.tenant_id),
        IncidentOnBoard(
            incident_id=incident.id,
            change=change,
            status=incident.status,
            severity=incident.severity,
            incident_type=incident.type,
            occurred_at=incident.occurred_at,
            workplace_id=incident.workplace_id,
        ),
    )
