"""Request and response bodies of the leave endpoints: types, requests, balances and the team calendar."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import LeaveRequest, LeaveType

TypeKey = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{1,31}$", description="e.g. annual, sick, parental.")]
TypeName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
YearlyDays = Annotated[float, msgspec.Meta(ge=0, le=366, description="Working days per calendar year.")]
Accrual = Literal["yearly", "monthly"]
Part = Literal["full", "am", "pm"]
LeaveStatus = Literal["pending", "approved", "rejected", "cancelled"]


class LeaveTypeCreate(RequestBody):
    """A kind of leave; ``monthly`` accrual earns a twelfth of ``yearly_days`` at the start of each month."""

    key: TypeKey
    name: TypeName
    yearly_days: YearlyDays = 0.0
    accrual: Accrual = "yearly"
    allow_negative: bool = False
    """Requests may exceed the available balance."""


class LeaveTypeUpdate(RequestBody):
    name: TypeName | UnsetType = UNSET
    yearly_days: YearlyDays | UnsetType = UNSET
    accrual: Accrual | UnsetType = UNSET
    allow_negative: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class LeaveTypeResponse(ResponseBody):
    id: UUID
    key: str
    name: str
    yearly_days: float
    accrual: str
    allow_negative: bool
    active: bool


class LeaveRequestCreate(RequestBody):
    """Leave on local dates of one's time zone (both included): whole days, or the ``am`` / ``pm`` half of one day."""

    leave_type_id: UUID
    start_date: date
    end_date: date
    part: Part = "full"
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class LeaveRequestResponse(ResponseBody):
    id: UUID
    user_id: UUID
    leave_type_id: UUID
    start_date: date
    end_date: date
    part: str
    days: float
    """Working days, rest days left out; 0.5 for a half day."""
    timezone: str
    reason: str
    status: str
    created_at: datetime
    decided_by: UUID | None = None
    decided_at: datetime | None = None


class Balance(ResponseBody):
    """One leave type's balance for a year, in working days: ``available`` is accrued minus taken and pending."""

    leave_type_id: UUID
    key: str
    name: str
    year: int
    entitled: float
    accrued: float
    """Earned by today (all of it from 1 January with yearly accrual)."""
    taken: float
    """Approved requests."""
    pending: float
    available: float
    allow_negative: bool


class Balances(ResponseBody):
    user_id: UUID
    year: int
    timezone: str
    balances: list[Balance]


class AwayEntry(ResponseBody):
    """Someone away (or asking to be) on some of the calendar's dates."""

    request_id: UUID
    user_id: UUID
    user_name: str
    leave_type: str
    start_date: date
    end_date: date
    part: str
    status: str


class CalendarHoliday(ResponseBody):
    """A public holiday on one of the calendar's dates: the tenant's (neither ``region`` nor ``workplace_id``),
    one region's, or one workplace's."""

    holiday_id: UUID
    day: date
    name: str
    region: str | None = None
    workplace_id: UUID | None = None


class TeamCalendar(ResponseBody):
    """Who is away from ``first`` to ``last`` (both included), and the public holidays kept there then."""

    first: date
    last: date
    away: list[AwayEntry]
    """By start date, then name."""
    holidays: list[CalendarHoliday]
    """By date; with a workplace, those kept there; with a department, the tenant's and those kept where its
    people are assigned; otherwise all of the tenant's."""


def leave_type_response(row: LeaveType) -> LeaveTypeResponse:
    return msgspec.convert(row, LeaveTypeResponse, from_attributes=True)


def leave_request_response(row: LeaveRequest) -> LeaveRequestResponse:
    return msgspec.convert(row, LeaveRequestResponse, from_attributes=True)
