"""Reports on people's time: attendance summary, lateness and absence, overtime, leave balances, store visits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Uuid,
    and_,
    case,
    cast,
    column,
    distinct,
    exists,
    extract,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from api.attendance.policy import work_policy
from api.reports.templates.base import Template
from api.shifts.services import occurrences_between
from persistence.models import (
    AttendanceDaily,
    AttendanceRecord,
    LeaveRequest,
    LeaveType,
    OvertimeRecord,
    User,
    Workplace,
)

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.types import TypeEngine

    from api.reports.query import ReportQuery

__all__ = ["PEOPLE_TEMPLATES"]


async def attendance_summary(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per person: days present, stays, minutes worked and on break, from the daily summary."""
    daily = AttendanceDaily
    statement = (
        select(
            User.id.label("user_id"),
            User.name.label("user_name"),
            func.count(distinct(daily.day)).label("days_present"),
            cast(func.sum(daily.stays), Integer).label("stays"),
            cast(func.sum(daily.worked_minutes), Integer).label("worked_minutes"),
            cast(func.sum(daily.break_minutes), Integer).label("break_minutes"),
            cast(func.round(func.sum(daily.worked_minutes) / func.count(distinct(daily.day)), 1), Float).label(
                "average_minutes_per_day"
            ),
        )
        .join(User, User.id == daily.user_id)
        .where(daily.day.between(query.first_day, query.last_day))
        .group_by(User.id, User.name)
        .order_by(User.name, User.id)
    )
    return query.narrow(statement, user=daily.user_id, workplace=daily.workplace_id)


async def lateness(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per person: shift occurrences begun in the range, how many late (first clock-in after the tenant's
    delay), minutes late in all, and absences (an occurrence over with no clock-in); approved leave excused."""
    policy = await work_policy(session)
    ends = min(query.end, query.now)
    occurrences = [
        (
            shift.user_id,
            shift.workplace_id,
            span.starts_at,
            span.ends_at,
            span.starts_at.astimezone(ZoneInfo(zone)).date(),
        )
        for shift, zone, span in await occurrences_between(session, query.start, ends)
        if query.start <= span.starts_at < ends
    ]
    # The occurrences expanded in Python become a table of parallel arrays; everything after is SQL.
    kinds: tuple[TypeEngine[Any], ...] = (Uuid(), Uuid(), DateTime(timezone=True), DateTime(timezone=True), Date())
    names = ("user_id", "workplace_id", "starts_at", "ends_at", "day")
    arrays: list[ColumnElement[Any]] = [
        cast(literal([row[index] for row in occurrences], ARRAY(kind)), ARRAY(kind)) for index, kind in enumerate(kinds)
    ]
    occ = (
        func.unnest(*arrays)
        .table_valued(*(column(name, kind) for name, kind in zip(names, kinds, strict=True)))
        .render_derived(name="occurrence")
    )
    record = AttendanceRecord
    first_in = (
        select(func.min(record.clock_in_at))
        .where(
            record.user_id == occ.c.user_id,
            record.workplace_id == occ.c.workplace_id,
            record.clock_in_at < occ.c.ends_at,
            or_(record.clock_out_at.is_(None), record.clock_out_at > occ.c.starts_at),
        )
        .scalar_subquery()
    )
    on_leave = exists().where(
        LeaveRequest.user_id == occ.c.user_id,
        LeaveRequest.status == "approved",
        occ.c.day.between(LeaveRequest.start_date, LeaveRequest.end_date),
    )
    rows = (
        select(occ.c.user_id, occ.c.workplace_id, occ.c.starts_at, occ.c.ends_at, first_in.label("first_in"))
        .where(~on_leave)
        .subquery("occurrences")
    )
    delay = func.make_interval(0, 0, 0, 0, 0, policy.late_after_minutes)
    late = and_(rows.c.first_in.is_not(None), rows.c.first_in > rows.c.starts_at + delay)
    statement = (
        select(
            User.id.label("user_id"),
            User.name.label("user_name"),
            func.count().label("shifts"),
            func.count().filter(late).label("late"),
            cast(
                func.coalesce(
                    func.sum(extract("epoch", rows.c.first_in - rows.c.starts_at) / 60).filter(late),
                    0,
                ),
                Integer,
            ).label("late_minutes"),
            func.count()
            .filter(rows.c.first_in.is_(None), rows.c.ends_at <= literal(query.now, DateTime(timezone=True)))
            .label("absent"),
        )
        .join(User, User.id == rows.c.user_id)
        .group_by(User.id, User.name)
        .order_by(User.name, User.id)
    )
    return query.narrow(statement, user=rows.c.user_id, workplace=rows.c.workplace_id)


async def overtime(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per person: overtime minutes by status for periods starting in the range."""
    record = OvertimeRecord

    def minutes(status: str) -> Any:
        return cast(func.coalesce(func.sum(record.minutes).filter(record.status == status), 0), Integer)

    statement = (
        select(
            User.id.label("user_id"),
            User.name.label("user_name"),
            func.count().label("records"),
            minutes("pending").label("pending_minutes"),
            minutes("approved").label("approved_minutes"),
            minutes("rejected").label("rejected_minutes"),
        )
        .join(User, User.id == record.user_id)
        .where(record.period_start.between(query.first_day, query.last_day))
        .group_by(User.id, User.name)
        .order_by(User.name, User.id)
    )
    return query.narrow(statement, user=record.user_id)


async def leave_balances(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per active person and active leave type: the balance of the year of ``to``, accrued as of ``to``
    (the same arithmetic as ``api.leave.balances``, in SQL)."""
    year = query.last_day.year
    request = LeaveRequest
    used = (
        select(
            request.user_id,
            request.leave_type_id,
            func.coalesce(func.sum(request.days).filter(request.status == "approved"), 0.0).label("taken"),
            func.coalesce(func.sum(request.days).filter(request.status == "pending"), 0.0).label("pending"),
        )
        .where(request.status.in_(("approved", "pending")), extract("year", request.start_date) == year)
        .group_by(request.user_id, request.leave_type_id)
        .subquery("used")
    )
    accrued = cast(
        case(
            (LeaveType.accrual == "yearly", LeaveType.yearly_days),
            else_=func.round(cast(LeaveType.yearly_days * query.last_day.month / 12.0, Numeric), 2),
        ),
        Float,
    )
    taken = func.coalesce(used.c.taken, 0.0)
    pending = func.coalesce(used.c.pending, 0.0)
    statement = (
        select(
            User.id.label("user_id"),
            User.name.label("user_name"),
            LeaveType.key.label("leave_type"),
            literal(year).label("year"),
            LeaveType.yearly_days.label("entitled"),
            accrued.label("accrued"),
            cast(taken, Float).label("taken"),
            cast(pending, Float).label("pending"),
            cast(func.round(cast(accrued - taken - pending, Numeric), 2), Float).label("available"),
        )
        .select_from(User)
        .join(LeaveType, LeaveType.active.is_(True))
        .outerjoin(used, and_(used.c.user_id == User.id, used.c.leave_type_id == LeaveType.id))
        .where(User.status == "active")
        .order_by(User.name, User.id, LeaveType.key)
    )
    return query.narrow(statement, user=User.id)


async def store_visits(session: AsyncSession, query: ReportQuery) -> Select[Any]:
    """Per workplace: clock-ins in the range, distinct people, and minutes of the stays closed so far."""
    record = AttendanceRecord
    statement = (
        select(
            Workplace.id.label("workplace_id"),
            Workplace.code.label("workplace_code"),
            Workplace.name.label("workplace_name"),
            func.count().label("visits"),
            func.count(distinct(record.user_id)).label("people"),
            cast(
                func.coalesce(func.sum(extract("epoch", record.clock_out_at - record.clock_in_at) / 60), 0), Integer
            ).label("minutes_on_site"),
            func.rank().over(order_by=func.count().desc()).label("rank"),
        )
        .join(Workplace, Workplace.id == record.workplace_id)
        .where(record.clock_in_at >= query.start, record.clock_in_at < query.end)
        .group_by(Workplace.id, Workplace.code, Workplace.name)
        .order_by(Workplace.code, Workplace.id)
    )
    return query.narrow(statement, user=record.user_id, workplace=record.workplace_id)


PEOPLE_TEMPLATES = (
    Template(
        key="attendance_summary",
        title="Attendance summary",
        description="Per person: days present, stays, minutes worked and on break (from the daily summary).",
        filters=("department_id", "workplace_id", "user_id"),
        build=attendance_summary,
    ),
    Template(
        key="lateness",
        title="Lateness and absence",
        description="Per person: shifts begun, late arrivals, minutes late, absences (approved leave excused).",
        filters=("department_id", "workplace_id", "user_id"),
        build=lateness,
    ),
    Template(
        key="overtime",
        title="Overtime",
        description="Per person: overtime minutes pending, approved and rejected, for periods in the range.",
        filters=("department_id", "user_id"),
        build=overtime,
    ),
    Template(
        key="leave_balances",
        title="Leave balances",
        description="Per person and leave type: entitled, accrued by 'to', taken, pending and available days.",
        filters=("department_id", "user_id"),
        build=leave_balances,
    ),
    Template(
        key="store_visits",
        title="Store visits",
        description="Per workplace: clock-ins, distinct people and minutes on site, ranked by visits.",
        filters=("department_id", "workplace_id", "user_id"),
        build=store_visits,
    ),
)
