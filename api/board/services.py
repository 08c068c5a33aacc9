"""Reading the supervisor's board: the tenant's active workplaces (one, or a department's) with who is clocked in,
who is late, open incidents and overdue tasks, each gathered in one query for all of them."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import select

from api.attendance.lateness import late_now
from api.board.schemas import Board, OpenIncident, OverdueTask, PersonIn, PersonLate, WorkplaceBoard
from api.incidents.board import open_incidents
from api.tasks.schemas import OPEN_STATUSES
from api.workplaces.base import require_row
from persistence.models import AttendanceRecord, Department, Task, User, Workplace

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

MAX_OVERDUE = 1000
"""Overdue tasks listed on one board, oldest due first; the task list has the rest."""
MAX_INCIDENTS = 500


async def read_board(
    session: AsyncSession, *, now: datetime, workplace_id: UUID | None = None, department_id: UUID | None = None
) -> Board:
    """The board at ``now`` for the tenant's active workplaces, or one of them, or a department's.

    Raises:
        AppError: ``not_found`` (404) for a workplace or department not in the tenant.
    """
    statement = select(Workplace).where(Workplace.status == "active").order_by(Workplace.name, Workplace.id)
    if workplace_id is not None:
        await require_row(session, Workplace, workplace_id, "workplace_id")
        statement = statement.where(Workplace.id == workplace_id)
    if department_id is not None:
        await require_row(session, Department, department_id, "department_id")
        statement = statement.where(Workplace.department_id == department_id)
    workplaces = list((await session.scalars(statement)).all())
    ids = [w.id for w in workplaces]
    present = await _clocked_in(session, ids)
    late = await _late(session, ids, now)
    incidents = await _incidents(session, ids)
    overdue = await _overdue(session, ids, now)
    return Board(
        generated_at=now,
        workplaces=[
            WorkplaceBoard(
                workplace_id=w.id,
                name=w.name,
                code=w.code,
                timezone=w.timezone,
                department_id=w.department_id,
                clocked_in=present.get(w.id, []),
                late=late.get(w.id, []),
                open_incidents=incidents.get(w.id, []),
                overdue_tasks=overdue.get(w.id, []),
            )
            for w in workplaces
        ],
    )


async def _clocked_in(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, list[PersonIn]]:
    rows = await session.execute(
        select(AttendanceRecord.workplace_id, AttendanceRecord.user_id, User.name, AttendanceRecord.id)
        .add_columns(AttendanceRecord.clock_in_at)
        .join(User, User.id == AttendanceRecord.user_id)
        .where(AttendanceRecord.clock_out_at.is_(None), AttendanceRecord.workplace_id.in_(ids))
        .order_by(AttendanceRecord.clock_in_at, AttendanceRecord.id)
    )
    found: dict[UUID, list[PersonIn]] = defaultdict(list)
    for workplace, user_id, name, attendance_id, clock_in_at in rows.tuples():
        found[workplace].append(
            PersonIn(user_id=user_id, name=name, attendance_id=attendance_id, clock_in_at=clock_in_at)
        )
    return found


async def _late(session: AsyncSession, ids: Sequence[UUID], now: datetime) -> dict[UUID, list[PersonLate]]:
    """Who is late (or absent) at each of ``ids``, as the lateness job judges it, latest start first."""
    wanted = set(ids)
    late = [item for item in await late_now(session, now) if item.workplace_id in wanted]
    if not late:
        return {}
    names = dict(
        (await session.execute(select(User.id, User.name).where(User.id.in_({item.user_id for item in late}))))
        .tuples()
        .all()
    )
    found: dict[UUID, list[PersonLate]] = defaultdict(list)
    for item in late:
        found[item.workplace_id].append(
            PersonLate(
                user_id=item.user_id,
                name=names.get(item.user_id, ""),
                shift_starts_at=item.starts_at,
                minutes_late=item.minutes_late,
                absent=item.absent,
            )
        )
    return found


async def _incidents(session: AsyncSession, ids: Sequence[UUID]) -> dict[UUID, list[OpenIncident]]:
    found: dict[UUID, list[OpenIncident]] = defaultdict(list)
    for incident in await open_incidents(session, workplace_ids=ids, limit=MAX_INCIDENTS):
        if incident.workplace_id is None:
            continue
        found[incident.workplace_id].append(
            OpenIncident(
                incident_id=incident.id,
                type=incident.type,
                severity=incident.severity,
                status=incident.status,
                occurred_at=incident.occurred_at,
            )
        )
    return found


async def _overdue(session: AsyncSession, ids: Sequence[UUID], now: datetime) -> dict[UUID, list[OverdueTask]]:
    rows = await session.execute(
        select(Task.workplace_id, Task.id, Task.title, Task.status, Task.priority, Task.due_at, Task.assignee_id)
        .where(
            Task.status.in_(OPEN_STATUSES),
            Task.due_at.is_not(None),
            Task.due_at <= now,
            Task.workplace_id.in_(ids),
        )
        .order_by(Task.due_at, Task.id)
        .limit(MAX_OVERDUE)
    )
    found: dict[UUID, list[OverdueTask]] = defaultdict(list)
    for workplace, task_id, title, status, priority, due_at, assignee_id in rows.tuples():
        if workplace is None or due_at is None:
            continue  # excluded by the query; narrows the types
        found[workplace].append(
            OverdueTask(
                task_id=task_id,
                title=title,
                status=status,
                priority=priority,
                due_at=due_at,
                assignee_id=assignee_id,
            )
        )
    return found
