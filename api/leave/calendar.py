"""The team calendar: who is away (or asks to be) on some of a range of dates, in a department or at a workplace,
and the public holidays kept there on those dates (where a holiday applies is :mod:`api.holidays.calendar`'s rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from api.errors import AppError
from api.holidays.calendar import kept_at, kept_where
from api.leave.schemas import AwayEntry, CalendarHoliday, TeamCalendar
from api.workplaces.base import require_row
from persistence.models import (
    Department,
    LeaveRequest,
    LeaveType,
    PublicHoliday,
    User,
    Workplace,
    WorkplaceAssignment,
)

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

MAX_DAYS = 93
"""The longest range one calendar request shows (a quarter)."""


async def team_calendar(
    session: AsyncSession,
    *,
    first: date,
    last: date,
    department_id: UUID | None = None,
    workplace_id: UUID | None = None,
    include_pending: bool = False,
) -> TeamCalendar:
    """Approved leave (and pending requests with ``include_pending``) touching ``first`` .. ``last``, by start,
    and the public holidays on those dates.

    ``department_id`` narrows to the department and its sub-departments, ``workplace_id`` to the people
    currently assigned there; with both, to people in both. The holidays shown are those kept at the workplace
    with ``workplace_id``; with only ``department_id``, the tenant's and those kept at a workplace one of the
    department's people is currently assigned to; with neither, every holiday of the tenant.

    Raises:
        AppError: ``invalid_range`` (422); ``not_found`` (404) for a department or workplace not in the tenant.
    """
    if last < first or (last - first).days >= MAX_DAYS:
        raise AppError(
            "invalid_range",
            f"'to' must not be before 'from', and the range at most {MAX_DAYS} days.",
            status_code=422,
            details={"fields": ["from", "to"], "max_days": MAX_DAYS},
        )
    statuses = ("approved", "pending") if include_pending else ("approved",)
    statement = (
        select(LeaveRequest, User.name, LeaveType.key)
        .join(User, User.id == LeaveRequest.user_id)
        .join(LeaveType, LeaveType.id == LeaveRequest.leave_type_id)
        .where(LeaveRequest.status.in_(statuses), LeaveRequest.start_date <= last, LeaveRequest.end_date >= first)
        .order_by(LeaveRequest.start_date, User.name, LeaveRequest.id)
    )
    holidays = select(PublicHoliday).where(PublicHoliday.day.between(first, last))
    if department_id is not None:
        await require_row(session, Department, department_id, "department_id")
        tree = select(Department.id).where(Department.id == department_id).cte("subtree", recursive=True)
        tree = tree.union(select(Department.id).join(tree, Department.parent_id == tree.c.id))
        statement = statement.where(User.department_id.in_(select(tree.c.id)))
        if workplace_id is None:
            holidays = holidays.where(_kept_for_department(tree))
    if workplace_id is not None:
        place: Workplace = await require_row(session, Workplace, workplace_id, "workplace_id")
        assigned = select(WorkplaceAssignment.user_id).where(
            WorkplaceAssignment.workplace_id == workplace_id, WorkplaceAssignment.ended_at.is_(None)
        )
        statement = statement.where(LeaveRequest.user_id.in_(assigned))
        holidays = holidays.where(kept_at([(place.id, place.region)]))
    rows = await session.execute(statement)
    away = [
        AwayEntry(
            request_id=row.id,
            user_id=row.user_id,
            user_name=name,
            leave_type=key,
            start_date=row.start_date,
            end_date=row.end_date,
            part=row.part,
            status=row.status,
        )
        for row, name, key in rows.tuples()
    ]
    kept = await session.scalars(holidays.order_by(PublicHoliday.day, PublicHoliday.name, PublicHoliday.id))
    return TeamCalendar(
        first=first,
        last=last,
        away=away,
        holidays=[
            CalendarHoliday(
                holiday_id=row.id, day=row.day, name=row.name, region=row.region, workplace_id=row.workplace_id
            )
            for row in kept
        ],
    )


def _kept_for_department(tree: Any) -> Any:
    """The condition that a holiday is the tenant's, or kept at a workplace someone of the department ``tree``
    (a CTE of department ids) is currently assigned to: that workplace's own, or its region's."""
    places = (
        select(WorkplaceAssignment.workplace_id)
        .join(User, User.id == WorkplaceAssignment.user_id)
        .where(WorkplaceAssignment.ended_at.is_(None), User.department_id.in_(select(tree.c.id)))
    )
    regions = select(Workplace.region).where(Workplace.id.in_(places), Workplace.region.is_not(None))
    return kept_where(places, regions)
