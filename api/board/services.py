"""Reading the supervisor's board: the tenant's active workplaces (one, or a department's) with who is clocked in,
who is late, open incidents and overdue tasks, each gathered in one query for all of them."""

from __future__ import annotations

from collections import defaultdict
from functools import cache
from typing import TYPE_CHECKING, cast

from sqlalchemy import String, any_, bindparam, case, func, literal, literal_column, null, select, union_all

from api.attendance.lateness import late_now
from api.attendance.policy import DEFAULTS
from api.board.schemas import Board, OpenIncident, OverdueTask, PersonIn, PersonLate, WorkplaceBoard
from api.incidents.board import SEVERITY_RANK
from api.tasks.schemas import OPEN_STATUSES
from api.workplaces.base import require_row
from persistence.models import AttendanceRecord, Department, Incident, Task, User, Workplace, WorkPolicy
from persistence.prepared import UUIDS, Prepared, one_of

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_OVERDUE = 1000
"""Overdue tasks listed on one board, oldest due first; the task list has the rest."""
MAX_INCIDENTS = 500


async def read_board(
    session: AsyncSession, *, now: datetime, workplace_id: UUID | None = None, department_id: UUID | None = None
) -> Board:
    """The board at ``now`` for the tenant's active workplaces, or one of them, or a department's.

    Three reads besides the filters' checks: the workplaces with the tenant's lateness threshold, the
    shifts due (:func:`late_now`), and who is clocked in, open incidents and overdue tasks together in one
    ``UNION ALL``, as plain rows.

    Raises:
        AppError: ``not_found`` (404) for a workplace or department not in the tenant.
    """
    late_after = select(_POLICY.c.late_after_minutes).scalar_subquery()
    statement = (
        select(
            _WORKPLACE.c.id,
            _WORKPLACE.c.name,
            _WORKPLACE.c.code,
            _WORKPLACE.c.timezone,
            _WORKPLACE.c.department_id,
            late_after.label("late_after_minutes"),
        )
        .where(_WORKPLACE.c.status == "active")
        .order_by(_WORKPLACE.c.name, _WORKPLACE.c.id)
    )
    if workplace_id is not None:
        await require_row(session, Workplace, workplace_id, "workplace_id")
        statement = statement.where(_WORKPLACE.c.id == workplace_id)
    if department_id is not None:
        await require_row(session, Department, department_id, "department_id")
        statement = statement.where(_WORKPLACE.c.department_id == department_id)
    workplaces = (await session.execute(statement)).all()
    ids = [w.id for w in workplaces]
    late_after_minutes: int = DEFAULTS["late_after_minutes"]
    if workplaces and workplaces[0].late_after_minutes is not None:
        late_after_minutes = workplaces[0].late_after_minutes
    late = await _late(session, ids, now, late_after_minutes=late_after_minutes)
    present, incidents, overdue = await _gathered(session, ids, now)
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


async def _gathered(
    session: AsyncSession, ids: Sequence[UUID], now: datetime
) -> tuple[dict[UUID, list[PersonIn]], dict[UUID, list[OpenIncident]], dict[UUID, list[OverdueTask]]]:
    """Who is clocked in (earliest first), open incidents (most severe, then latest first, at most
    :data:`MAX_INCIDENTS`) and overdue tasks (oldest due first, at most :data:`MAX_OVERDUE`) at ``ids``, in
    one statement (:func:`_gather_statement`)."""
    present: dict[UUID, list[PersonIn]] = defaultdict(list)
    incidents: dict[UUID, list[OpenIncident]] = defaultdict(list)
    overdue: dict[UUID, list[OverdueTask]] = defaultdict(list)
    if not ids:
        return present, incidents, overdue
    rows = await _gather_statement().fetch(session, ids=list(ids), now=now)
    for kind, _, workplace_id, item_id, user_id, label, status, grade, at in rows:
        if kind == "in":
            present[workplace_id].append(PersonIn(user_id=user_id, name=label, attendance_id=item_id, clock_in_at=at))
        elif kind == "incident":
            incidents[workplace_id].append(
                OpenIncident(incident_id=item_id, type=label, severity=grade, status=status, occurred_at=at)
            )
        else:
            overdue[workplace_id].append(
                OverdueTask(task_id=item_id, title=label, status=status, priority=grade, due_at=at, assignee_id=user_id)
            )
    return present, incidents, overdue


@cache
def _gather_statement() -> Prepared:
    """Clocked-in people, open incidents and overdue tasks at the workplaces ``:ids`` at ``:now``, as rows of
    one shape ``(kind, ord, workplace_id, item_id, user_id, label, status, grade, at)``, each part in its own
    order (``ord``). Built once: putting the statement together costs more than running it."""
    ids = any_(bindparam("ids", type_=UUIDS))
    no_text = null().cast(String)
    people_order = (_RECORD.c.clock_in_at, _RECORD.c.id)
    people = select(
        literal("in").label("kind"),
        func.row_number().over(order_by=people_order).label("ord"),
        _RECORD.c.workplace_id,
        _RECORD.c.id.label("item_id"),
        _RECORD.c.user_id,
        _USER.c.name.label("label"),
        no_text.label("status"),
        no_text.label("grade"),
        _RECORD.c.clock_in_at.label("at"),
    ).where(_RECORD.c.user_id == _USER.c.id, _RECORD.c.clock_out_at.is_(None), _RECORD.c.workplace_id == ids)
    rank = case(SEVERITY_RANK, value=_INCIDENT.c.severity, else_=len(SEVERITY_RANK))
    incident_order = (rank, _INCIDENT.c.occurred_at.desc(), _INCIDENT.c.id)
    open_ones = (
        select(
            literal("incident"),
            func.row_number().over(order_by=incident_order),
            _INCIDENT.c.workplace_id,
            _INCIDENT.c.id,
            null().cast(_USER.c.id.type),
            _INCIDENT.c.type,
            _INCIDENT.c.status,
            _INCIDENT.c.severity,
            _INCIDENT.c.occurred_at,
        )
        .where(_INCIDENT.c.status != "closed", _INCIDENT.c.workplace_id == ids)
        .order_by(*incident_order)
        .limit(MAX_INCIDENTS)
    )
    task_order = (_TASK.c.due_at, _TASK.c.id)
    late_tasks = (
        select(
            literal("task"),
            func.row_number().over(order_by=task_order),
            _TASK.c.workplace_id,
            _TASK.c.id,
            _TASK.c.assignee_id,
            _TASK.c.title,
            _TASK.c.status,
            _TASK.c.priority,
            _TASK.c.due_at,
        )
        .where(
            one_of(_TASK.c.status, OPEN_STATUSES),
            _TASK.c.due_at.is_not(None),
            _TASK.c.due_at <= bindparam("now", type_=_TASK.c.due_at.type),
            _TASK.c.workplace_id == ids,
        )
        .order_by(*task_order)
        .limit(MAX_OVERDUE)
    )
    return Prepared(union_all(people, open_ones, late_tasks).order_by(literal_column("kind"), literal_column("ord")))


async def _late(
    session: AsyncSession, ids: Sequence[UUID], now: datetime, *, late_after_minutes: int
) -> dict[UUID, list[PersonLate]]:
    """Who is late (or absent) at each of ``ids``, as the lateness job judges it, latest start first."""
    wanted = set(ids)
    if not wanted:
        return {}
    found_late = await late_now(session, now, late_after_minutes=late_after_minutes)
    late = [item for item in found_late if item.workplace_id in wanted]
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


_WORKPLACE = cast("Table", Workplace.__table__)
_POLICY = cast("Table", WorkPolicy.__table__)
_RECORD = cast("Table", AttendanceRecord.__table__)
_USER = cast("Table", User.__table__)
_INCIDENT = cast("Table", Incident.__table__)
_TASK = cast("Table", Task.__table__)
