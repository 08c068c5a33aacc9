"""Turning worked time into overtime records, on clock-out and on a correction.

Overtime is computed when the worked time changes (a clock-out, a supervisor's correction), not when a
day closes: it needs no schedule, offline clock-outs sent days later count at once, and the last
clock-out of a day leaves that day's record exact. Each affected local day and its week are recomputed
from the timesheet, in the person's time zone:

- ``rest_day``: every minute worked on a rest day or a public holiday of the person, when the tenant counts them;
- ``daily``: minutes of a working day beyond the daily threshold;
- ``weekly``: minutes of the week beyond the weekly threshold, not counting those already daily or rest-day
  overtime.

Minutes already decided (approved or rejected) stay as they are; what is computed beyond them is one
pending record per person, kind and period, updated in place while it waits, and cancelled when nothing
is left (a correction shortened the day). A new pending record goes to approval at once
(:mod:`api.overtime.approval`); a cancelled one takes its approval request with it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from api.approvals.services import cancel_locked, lock_open_request
from api.attendance.policy import work_policy
from api.attendance.timesheets import day_totals
from api.overtime.approval import APPROVAL_KIND, ask_approval
from api.shifts.recurrence import WEEKDAYS
from api.workplaces.base import utc_now
from persistence.models import OvertimeRecord, User

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.attendance.schemas import TimesheetDay
    from persistence.models import WorkPolicy


def week_overtime(days: list[TimesheetDay], policy: WorkPolicy) -> list[tuple[str, date, int]]:
    """``(kind, period_start, minutes)`` for one week's days (Monday to Sunday), by the policy's rules.

    Example: with a daily threshold of 480 and a weekly one of 2400, five days of 540 minutes give
    ``daily`` 60 on each day, and ``weekly`` 0 (the 2400 regular minutes do not exceed the threshold).
    """
    found: list[tuple[str, date, int]] = []
    regular = 0
    # Whole minutes are counted on the week's running total, so a stay split at midnight keeps its
    # minutes: 29 min 43 s and 2 h 30 min 17 s are 29 and 151 minutes, not 29 and 150.
    elapsed = 0
    for day in days:
        counted_before = elapsed // 60
        elapsed += day.net_seconds
        worked = elapsed // 60 - counted_before
        off = WEEKDAYS[day.date.weekday()] in policy.rest_days or day.holiday is not None
        if policy.overtime_on_rest_days and off:
            found.append(("rest_day", day.date, worked))
            continue
        daily = 0
        if policy.overtime_daily_minutes is not None:
            daily = max(0, worked - policy.overtime_daily_minutes)
            found.append(("daily", day.date, daily))
        regular += worked - daily
    if policy.overtime_weekly_minutes is not None:
        found.append(("weekly", days[0].date, max(0, regular - policy.overtime_weekly_minutes)))
    return found


async def recompute_overtime(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    user_id: UUID,
    spans: Iterable[tuple[datetime, datetime]],
    now: datetime | None = None,
) -> None:
    """Bring the person's overtime records in line with their worked time around ``spans`` (in the caller's
    transaction); nothing when the tenant has no overtime rules."""
    policy = await work_policy(session)
    rules = (policy.overtime_daily_minutes, policy.overtime_weekly_minutes)
    if rules == (None, None) and not policy.overtime_on_rest_days:
        return
    zone_name = await session.scalar(select(User.timezone).where(User.id == user_id)) or "UTC"
    zone = ZoneInfo(zone_name)
    mondays: set[date] = set()
    for starts, ends in spans:
        day = starts.astimezone(zone).date()
        while day <= ends.astimezone(zone).date():
            mondays.add(day - timedelta(days=day.weekday()))
            day += timedelta(days=1)
    for monday in sorted(mondays):
        days = await day_totals(
            session,
            user_id=user_id,
            zone=zone_name,
            first=monday,
            last=monday + timedelta(days=6),
            now=now or utc_now(),
        )
        for kind, period_start, minutes in week_overtime(days, policy):
            await _settle(session, tenant_id, user_id, zone_name, kind, period_start, minutes)


async def _settle(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, zone: str, kind: str, period_start: date, minutes: int
) -> None:
    period = (
        OvertimeRecord.user_id == user_id,
        OvertimeRecord.kind == kind,
        OvertimeRecord.period_start == period_start,
    )
    waiting = await session.scalar(select(OvertimeRecord.id).where(*period, OvertimeRecord.status == "pending"))
    # Its approval request first, then the record: the order a decision locks them in.
    approval = None if waiting is None else await lock_open_request(session, kind=APPROVAL_KIND, subject_id=waiting)
    pending: OvertimeRecord | None = await session.scalar(
        select(OvertimeRecord).where(*period, OvertimeRecord.status == "pending").with_for_update()
    )
    decided = await session.scalar(
        select(func.coalesce(func.sum(OvertimeRecord.minutes), 0)).where(
            *period, OvertimeRecord.status.in_(("approved", "rejected"))
        )
    )
    remaining = minutes - int(decided or 0)
    if remaining > 0 and pending is None:
        pending = OvertimeRecord(
            tenant_id=tenant_id,
            user_id=user_id,
            kind=kind,
            period_start=period_start,
            timezone=zone,
            minutes=remaining,
            status="pending",
        )
        session.add(pending)
        await session.flush()
        await ask_approval(session, pending)
    elif remaining > 0 and pending is not None:
        pending.minutes = remaining
        if approval is None:
            await ask_approval(session, pending)
    elif pending is not None:
        pending.status = "cancelled"
        pending.decided_at = utc_now()
        pending.note = "No overtime left after the worked time changed."
        if approval is not None:
            await session.flush()
            # The decision hook finds the record cancelled already and leaves it as it is.
            await cancel_locked(session, approval, actor_id=None)
    await session.flush()
