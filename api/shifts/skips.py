"""Calling off one occurrence of a weekly shift: the shift keeps its pattern, and the local date the occurrence
starts on is stored as skipped, so every expansion of the shift (listings of occurrences, the lateness job and
the board it feeds, reports, the overlap check) passes over it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from api.errors import AppError
from api.shifts.audit import audit_shift
from api.shifts.notices import tell_occurrence_cancelled
from api.shifts.recurrence import occurrences
from api.workplaces.base import local_instant, utc_now
from persistence.models import ShiftSkip

if TYPE_CHECKING:
    from collections.abc import Collection
    from datetime import date
    from uuid import UUID
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from persistence.models import Shift


async def skipped_days(
    session: AsyncSession, shift_ids: Collection[UUID], first: date | None = None, last: date | None = None
) -> dict[UUID, set[date]]:
    """The local dates called off of each of ``shift_ids`` (between ``first`` and ``last`` when given)."""
    if not shift_ids:
        return {}
    statement = select(ShiftSkip.shift_id, ShiftSkip.day).where(ShiftSkip.shift_id.in_(set(shift_ids)))
    if first is not None:
        statement = statement.where(ShiftSkip.day >= first)
    if last is not None:
        statement = statement.where(ShiftSkip.day <= last)
    found: dict[UUID, set[date]] = defaultdict(set)
    for shift_id, day in (await session.execute(statement)).tuples():
        found[shift_id].add(day)
    return dict(found)


async def skip_occurrence(
    session: AsyncSession,
    shift: Shift,
    zone: ZoneInfo,
    day: date,
    reason: str,
    *,
    actor: CurrentUser,
    origin: Origin,
) -> ShiftSkip:
    """Call off the occurrence of the (locked) weekly ``shift`` starting on local date ``day``; its person is told.

    Raises:
        AppError: ``shift_cancelled`` (409) for a cancelled shift; ``not_recurring`` (422) for a one-off shift
            (cancel it whole); ``not_an_occurrence`` (422) when no occurrence starts on ``day``;
            ``occurrence_cancelled`` (409) when it is called off already; ``occurrence_started`` (409) when it
            has started.
    """
    if shift.cancelled_at is not None:
        raise AppError("shift_cancelled", "This shift is cancelled already.", status_code=409)
    if shift.kind != "weekly":
        raise AppError(
            "not_recurring",
            "Only a weekly shift has occurrences to call off one by one; cancel a one-off shift whole.",
            status_code=422,
        )
    assert shift.start_time is not None
    day_start = local_instant(day, shift.start_time, zone)
    found = [
        span
        for span in occurrences(shift, zone, day_start, day_start + timedelta(minutes=1))
        if span.starts_at.astimezone(zone).date() == day
    ]
    if not found:
        raise AppError(
            "not_an_occurrence",
            "The shift has no occurrence starting on this date.",
            status_code=422,
            details={"field": "day", "day": day.isoformat()},
        )
    span = found[0]
    taken = await session.scalar(select(ShiftSkip.id).where(ShiftSkip.shift_id == shift.id, ShiftSkip.day == day))
    if taken is not None:
        raise AppError(
            "occurrence_cancelled",
            "This occurrence is cancelled already.",
            status_code=409,
            details={"day": day.isoformat()},
        )
    if span.starts_at <= utc_now():
        raise AppError(
            "occurrence_started",
            "This occurrence has started; correct the attendance instead.",
            status_code=409,
            details={"starts_at": span.starts_at.isoformat()},
        )
    skip = ShiftSkip(
        tenant_id=shift.tenant_id,
        shift_id=shift.id,
        day=day,
        starts_at=span.starts_at,
        reason=reason,
        cancelled_by=actor.id,
    )
    session.add(skip)
    await session.flush()
    audit_shift(
        session,
        actor,
        origin,
        "shift.occurrence_cancel",
        shift,
        {"day": day.isoformat(), "starts_at": span.starts_at.isoformat(), "reason": reason},
    )
    await tell_occurrence_cancelled(session, shift, span, zone, reason=reason)
    return skip
