"""Timesheets: a person's worked time, breaks and net time per local day and week of their time zone.

Days are cut in SQL from local midnight to the next local midnight (``date::timestamp AT TIME ZONE zone``),
so a spring-forward day lasts 23 hours and a fall-back day 25, and a stay across midnight counts in both
days. An open stay or break counts up to ``now``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, text
from sqlalchemy.types import Date, DateTime, String, Uuid

from api.attendance.schemas import Timesheet, TimesheetDay, TimesheetWeek
from api.errors import AppError
from api.holidays.calendar import person_holidays
from api.workplaces.base import require_row
from persistence.models import User

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

MAX_DAYS = 62
"""The longest timesheet one request computes."""

_DAY_TOTALS = text(
    """
    WITH days AS (
        SELECT d::date AS day,
               d::date::timestamp AT TIME ZONE :zone AS starts,
               (d::date + 1)::timestamp AT TIME ZONE :zone AS ends
        FROM generate_series(:first, :last, interval '1 day') AS d
    ),
    worked AS (
        SELECT days.day,
               SUM(EXTRACT(EPOCH FROM LEAST(COALESCE(a.clock_out_at, :now), days.ends)
                                    - GREATEST(a.clock_in_at, days.starts))) AS seconds
        FROM days
        JOIN attendance_record AS a
          ON a.user_id = :user_id AND a.clock_in_at < days.ends AND COALESCE(a.clock_out_at, :now) > days.starts
        GROUP BY days.day
    ),
    breaks AS (
        SELECT days.day,
               SUM(EXTRACT(EPOCH FROM LEAST(COALESCE(b.ended_at, :now), days.ends)
                                    - GREATEST(b.started_at, days.starts))) AS seconds
        FROM days
        JOIN attendance_break AS b
          ON b.user_id = :user_id AND b.started_at < days.ends AND COALESCE(b.ended_at, :now) > days.starts
        GROUP BY days.day
    )
    SELECT days.day, days.starts, days.ends,
           COALESCE(worked.seconds, 0)::bigint AS worked, COALESCE(breaks.seconds, 0)::bigint AS breaks
    FROM days
    LEFT JOIN worked ON worked.day = days.day
    LEFT JOIN breaks ON breaks.day = days.day
    ORDER BY days.day
    """
).bindparams(
    bindparam("zone", type_=String),
    bindparam("first", type_=Date),
    bindparam("last", type_=Date),
    bindparam("now", type_=DateTime(timezone=True)),
    bindparam("user_id", type_=Uuid),
)


async def day_totals(
    session: AsyncSession, *, user_id: UUID, zone: str, first: date, last: date, now: datetime
) -> list[TimesheetDay]:
    """One entry per local date from ``first`` to ``last`` (both included), in ``zone``, naming the person's
    public holidays."""
    holidays = await person_holidays(session, user_id, first, last)
    rows = await session.execute(
        _DAY_TOTALS, {"zone": zone, "first": first, "last": last, "now": now, "user_id": user_id}
    )
    return [
        TimesheetDay(
            date=day,
            starts_at=starts,
            ends_at=ends,
            hours=(ends - starts).total_seconds() / 3600,
            worked_seconds=int(worked),
            break_seconds=int(breaks),
            net_seconds=int(worked) - int(breaks),
            holiday=holidays.get(day),
        )
        for day, starts, ends, worked, breaks in rows.tuples()
    ]


def week_totals(days: list[TimesheetDay]) -> list[TimesheetWeek]:
    """The days summed per ISO week (Monday first); a week cut by the range sums only its days in it."""
    weeks: dict[date, TimesheetWeek] = {}
    for day in days:
        monday = day.date - timedelta(days=day.date.weekday())
        week = weeks.get(monday) or TimesheetWeek(week_start=monday, worked_seconds=0, break_seconds=0, net_seconds=0)
        weeks[monday] = TimesheetWeek(
            week_start=monday,
            worked_seconds=week.worked_seconds + day.worked_seconds,
            break_seconds=week.break_seconds + day.break_seconds,
            net_seconds=week.net_seconds + day.net_seconds,
        )
    return list(weeks.values())


async def timesheet(session: AsyncSession, *, user_id: UUID, first: date, last: date, now: datetime) -> Timesheet:
    """The person's timesheet from ``first`` to ``last`` (local dates, both included) in their time zone.

    Raises:
        AppError: ``not_found`` (404) for a user not in the tenant; ``invalid_range`` (422) when ``last``
            is before ``first`` or the range is longer than :data:`MAX_DAYS`.
    """
    user: User = await require_row(session, User, user_id, "user_id")
    if last < first or (last - first).days >= MAX_DAYS:
        raise AppError(
            "invalid_range",
            f"'to' must not be before 'from', and the range at most {MAX_DAYS} days.",
            status_code=422,
            details={"fields": ["from", "to"], "max_days": MAX_DAYS},
        )
    days = await day_totals(session, user_id=user.id, zone=user.timezone, first=first, last=last, now=now)
    return Timesheet(
        user_id=user.id,
        timezone=user.timezone,
        days=days,
        weeks=week_totals(days),
        net_seconds=sum(day.net_seconds for day in days),
    )
