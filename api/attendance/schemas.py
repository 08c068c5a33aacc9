"""Request and response bodies of the attendance endpoints.

``occurred_at`` is the device's time of an offline clock-in or clock-out; it must carry an offset
(a naive time is refused with ``422 naive_datetime``), since its instant would otherwise be unknown.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from api.workplaces.schemas import Latitude, Longitude
from persistence.models import AttendanceRecord

Accuracy = Annotated[float, msgspec.Meta(ge=0, le=100_000, description="The GPS fix's accuracy radius, metres.")]


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


class AttendanceResponse(ResponseBody):
    id: UUID
    user_id: UUID
    workplace_id: UUID
    clock_in_at: datetime
    clock_in_offline: bool
    clock_in_distance_m: float
    clock_out_offline: bool
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
        clock_out_at=record.clock_out_at,
        clock_out_offline=record.clock_out_offline,
        clock_out_distance_m=None if record.clock_out_distance_m is None else round(record.clock_out_distance_m, 1),
        worked_seconds=worked_seconds(record),
    )
