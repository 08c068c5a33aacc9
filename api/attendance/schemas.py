"""Request and response bodies of the attendance endpoints.

``occurred_at`` is the device's time of an offline clock-in or clock-out; it must carry an offset
(a naive time is refused with ``422 naive_datetime``), since its instant would otherwise be unknown.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from api.workplaces.schemas import Latitude, Longitude, Weekday
from persistence.models import AttendanceBreak, AttendanceRecord, WorkPolicy

Accuracy = Annotated[float, msgspec.Meta(ge=0, le=100_000, description="The GPS fix's accuracy radius, metres.")]
Reason = Annotated[str, msgspec.Meta(min_length=3, max_length=500, description="Why the entry is corrected.")]
Delay = Annotated[int, msgspec.Meta(ge=1, le=24 * 60, description="Minutes, 1 to 1440.")]
GeofencePolicy = Literal["refuse", "flag"]
RestDays = Annotated[list[Weekday], msgspec.Meta(max_length=7)]


class ClockIn(RequestBody):
    """Clock in at an assigned workplace from inside its geofence."""

    workplace_id: UUID
    latitude: Latitude
    longitude: Longitude
    accuracy_m: Accuracy | None = None
    occurred_at: datetime | None = None
    """When the device clocked in, for a clock-in sent later (offline); now when absent."""


class ClockOut(RequestBody):
    """Clock out of the open attendance, from inside its workplace's geofence."""

    latitude: Latitude
    longitude: Longitude
    accuracy_m: Accuracy | None = None
    occurred_at: datetime | None = None


class BreakEvent(RequestBody):
    """Start or end a break of the open attendance; ``occurred_at`` for one sent later (offline)."""

    occurred_at: datetime | None = None


class Correction(RequestBody):
    """A supervisor's correction of an attendance entry: new times (each optional) and the required reason."""

    reason: Reason
    clock_in_at: datetime | None = None
    clock_out_at: datetime | None = None


class PolicyUpdate(RequestBody):
    """The tenant's attendance rules; fields left out keep their value."""

    geofence: GeofencePolicy | msgspec.UnsetType = msgspec.UNSET
    late_after_minutes: Delay | msgspec.UnsetType = msgspec.UNSET
    escalate_after_minutes: Delay | msgspec.UnsetType = msgspec.UNSET
    rest_days: RestDays | msgspec.UnsetType = msgspec.UNSET


class PolicyResponse(ResponseBody):
    """``geofence``: refuse or flag a position outside; lateness is notified to the person after
    ``late_after_minutes``, to the workplace's supervisors ``escalate_after_minutes`` later."""

    geofence: str
    late_after_minutes: int
    escalate_after_minutes: int
    rest_days: list[str]


class BreakResponse(ResponseBody):
    id: UUID
    attendance_id: UUID
    started_at: datetime
    ended_at: datetime | None = None


class TimesheetDay(ResponseBody):
    """One local day: from local midnight to the next (23 or 25 hours across a DST change)."""

    date: date
    starts_at: datetime
    ends_at: datetime
    hours: float
    worked_seconds: int
    break_seconds: int
    net_seconds: int
    """Worked minus breaks."""
    holiday: str | None = None
    """The name of the person's public holiday on this day; work on it counts as on a rest day."""


class TimesheetWeek(ResponseBody):
    week_start: date
    """The Monday of the week."""
    worked_seconds: int
    break_seconds: int
    net_seconds: int


class Timesheet(ResponseBody):
    user_id: UUID
    timezone: str
    days: list[TimesheetDay]
    weeks: list[TimesheetWeek]
    net_seconds: int


class AttendanceResponse(ResponseBody):
    id: UUID
    user_id: UUID
    workplace_id: UUID
    clock_in_at: datetime
    clock_in_offline: bool
    clock_in_distance_m: float
    clock_in_flagged: bool
    """Accepted outside the geofence (the tenant's policy is ``flag``)."""
    clock_out_offline: bool
    clock_out_flagged: bool
    clock_out_at: datetime | None = None
    clock_out_distance_m: float | None = None
    worked_seconds: int | None = None
    """From clock-in to clock-out, once clocked out."""


class DayEntry(ResponseBody):
    """One attendance of the day, with its times also in the workplace's local time."""

    id: UUID
    user_id: UUID
    clock_in_at: datetime
    clock_in_local: str
    clock_in_offline: bool
    clock_out_at: datetime | None = None
    clock_out_local: str | None = None
    worked_seconds: int | None = None


class WorkplaceDay(ResponseBody):
    """A workplace's attendance for one local calendar day (23 or 25 hours long across a DST change)."""

    workplace_id: UUID
    date: date
    timezone: str
    starts_at: datetime
    ends_at: datetime
    hours: float
    entries: list[DayEntry]


def worked_seconds(record: AttendanceRecord) -> int | None:
    if record.clock_out_at is None:
        return None
    return int((record.clock_out_at - record.clock_in_at).total_seconds())


def attendance_response(record: AttendanceRecord) -> AttendanceResponse:
    return AttendanceResponse(
        id=record.id,
        user_id=record.user_id,
        workplace_id=record.workplace_id,
        clock_in_at=record.clock_in_at,
        clock_in_offline=record.clock_in_offline,
        clock_in_distance_m=round(record.clock_in_distance_m, 1),
        clock_in_flagged=record.clock_in_flagged,
        clock_out_flagged=record.clock_out_flagged,
        clock_out_at=record.clock_out_at,
        clock_out_offline=record.clock_out_offline,
        clock_out_distance_m=None if record.clock_out_distance_m is None else round(record.clock_out_distance_m, 1),
        worked_seconds=worked_seconds(record),
    )


def break_response(row: AttendanceBreak) -> BreakResponse:
    return msgspec.convert(row, BreakResponse, from_attributes=True)


def policy_response(policy: WorkPolicy) -> PolicyResponse:
    return msgspec.convert(policy, PolicyResponse, from_attributes=True)


class CorrectionRequestResponse(ResponseBody):
    """A correction someone asked for on their own entry: ``pending`` while its approval request
    (``approval_request_id``, kind ``attendance_correction``) is open; applied only once approved."""

    id: UUID
    """The correction's id: the approval request's ``subject_id``."""
    approval_request_id: UUID
    attendance_id: UUID
    status: str
    reason: str
    clock_in_at: datetime | None = None
    clock_out_at: datetime | None = None
