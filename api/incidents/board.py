"""What the supervisor's board shows of incidents: their order, and a live event on each change."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from uuid import UUID

import msgspec

from api.board.live import board_topic, queue_event
from persistence.models import Incident

if TYPE_CHECKING:
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
