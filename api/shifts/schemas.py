"""Request and response bodies of the shift endpoints.

A shift is one-off (``starts_at`` and ``ends_at``, both with an offset) or weekly (``recurrence``:
weekdays, a local start time and a duration, between two local dates of the workplace's time zone).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from api.workplaces.schemas import ClockTime, Weekday
from persistence.models import Shift, ShiftSkip

if TYPE_CHECKING:
    from collections.abc import Collection

MAX_SHIFT_MINUTES = 23 * 60
"""A shift lasts at most 23 hours, so a daily pattern never overlaps itself on a 23-hour DST day."""

ShiftMinutes = Annotated[int, msgspec.Meta(ge=1, le=MAX_SHIFT_MINUTES, description="Length in minutes, 1 to 1380.")]
Note = Annotated[str, msgspec.Meta(max_length=500)]
ShiftKind = Literal["one_off", "weekly"]


class Recurrence(RequestBody):
    """Every listed weekday from ``from_date`` to ``until_date`` (open-ended without it), at ``start_time`` local."""

    weekdays: Annotated[list[Weekday], msgspec.Meta(min_length=1, max_length=7)]
    start_time: ClockTime
    duration_minutes: ShiftMinutes
    from_date: date
    until_date: date | None = None


class ShiftCreate(RequestBody):
    """A planned shift of a person assigned to the workplace: either ``starts_at`` and ``ends_at``, or ``recurrence``."""

    user_id: UUID
    workplace_id: UUID
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    recurrence: Recurrence | None = None
    note: Note = ""


class ShiftUpdate(RequestBody):
    """What changes: the person, the workplace, the times (``starts_at`` and ``ends_at`` together, or a new
    ``recurrence``; giving one shape turns the shift into it) or the note. Absent fields stay as they are."""

    user_id: UUID | UnsetType = UNSET
    workplace_id: UUID | UnsetType = UNSET
    starts_at: datetime | UnsetType = UNSET
    ends_at: datetime | UnsetType = UNSET
    recurrence: Recurrence | UnsetType = UNSET
    note: Note | UnsetType = UNSET


class ShiftCancel(RequestBody):
    """Why the shift is called off; the person is told."""

    reason: Annotated[str, msgspec.Meta(min_length=3, max_length=500)]


class ShiftResponse(ResponseBody):
    id: UUID
    user_id: UUID
    workplace_id: UUID
    kind: str
    note: str
    created_at: datetime
    timezone: str
    """The workplace's time zone, in which a weekly shift's times and dates are read."""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[str] | None = None
    start_time: str | None = None
    duration_minutes: int | None = None
    from_date: date | None = None
    until_date: date | None = None
    created_by: UUID | None = None
    cancelled_at: datetime | None = None
    """Set once the shift is called off; a cancelled shift has no occurrences."""
    cancelled_by: UUID | None = None
    cancel_reason: str = ""
    skipped_dates: list[date] = msgspec.field(default_factory=list)
    """Local dates whose occurrence of this weekly shift is called off, in order."""


class SkipResponse(ResponseBody):
    """One occurrence of a weekly shift, called off."""

    shift_id: UUID
    user_id: UUID
    workplace_id: UUID
    day: date
    """The local date it was to start on, in the workplace's time zone."""
    starts_at: datetime
    starts_local: str
    reason: str
    cancelled_at: datetime
    cancelled_by: UUID | None = None


class OccurrenceResponse(ResponseBody):
    """One occurrence of a shift, with its times also in the workplace's local time."""

    shift_id: UUID
    user_id: UUID
    workplace_id: UUID
    starts_at: datetime
    ends_at: datetime
    starts_local: str
    ends_local: str


def shift_response(shift: Shift, timezone: str, skipped: Collection[date] = ()) -> ShiftResponse:
    weekly = shift.kind == "weekly"
    return ShiftResponse(
        id=shift.id,
        user_id=shift.user_id,
        workplace_id=shift.workplace_id,
        kind=shift.kind,
        note=shift.note,
        created_at=shift.created_at,
        created_by=shift.created_by,
        starts_at=shift.starts_at,
        ends_at=shift.ends_at,
        weekdays=list(shift.weekdays) if weekly else None,
        start_time=shift.start_time.strftime("%H:%M") if shift.start_time else None,
        duration_minutes=shift.duration_minutes,
        from_date=shift.from_date,
        until_date=shift.until_date,
        timezone=timezone,
        cancelled_at=shift.cancelled_at,
        cancelled_by=shift.cancelled_by,
        cancel_reason=shift.cancel_reason,
        skipped_dates=sorted(skipped),
    )


def skip_response(skip: ShiftSkip, shift: Shift, timezone: str) -> SkipResponse:
    return SkipResponse(
        shift_id=shift.id,
        user_id=shift.user_id,
        workplace_id=shift.workplace_id,
        day=skip.day,
        starts_at=skip.starts_at,
        starts_local=skip.starts_at.astimezone(ZoneInfo(timezone)).isoformat(),
        reason=skip.reason,
        cancelled_at=skip.created_at,
        cancelled_by=skip.cancelled_by,
    )
