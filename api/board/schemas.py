"""The supervisor's board as the API returns it: per workplace, who is in, who is late, open incidents, overdue
tasks. The same shapes arrive live on the board topic (``docs/protocol.md``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from api.schemas import ResponseBody


class PersonIn(ResponseBody):
    """Someone clocked in at the workplace now."""

    user_id: UUID
    name: str
    attendance_id: UUID
    clock_in_at: datetime


class PersonLate(ResponseBody):
    """Someone whose shift at the workplace started without them clocking in."""

    user_id: UUID
    name: str
    shift_starts_at: datetime
    minutes_late: int
    absent: bool = False
    """The shift is over and they never clocked in."""


class OpenIncident(ResponseBody):
    incident_id: UUID
    type: str
    severity: str
    status: str
    occurred_at: datetime


class OverdueTask(ResponseBody):
    task_id: UUID
    title: str
    status: str
    priority: str
    due_at: datetime
    assignee_id: UUID | None = None


class WorkplaceBoard(ResponseBody):
    workplace_id: UUID
    name: str
    code: str
    timezone: str
    clocked_in: list[PersonIn]
    late: list[PersonLate]
    open_incidents: list[OpenIncident]
    overdue_tasks: list[OverdueTask]
    department_id: UUID | None = None


class Board(ResponseBody):
    """The board at ``generated_at``; live events on ``t:<tenant>:board`` keep it current from then on."""

    generated_at: datetime
    workplaces: list[WorkplaceBoard]
