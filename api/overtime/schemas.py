"""Request and response bodies of the overtime endpoints: records and the tenant's rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.attendance.schemas import RestDays
from api.schemas import RequestBody, ResponseBody
from persistence.models import OvertimeRecord, WorkPolicy

Threshold = Annotated[int, msgspec.Meta(ge=0, le=7 * 24 * 60, description="Minutes of net work.")]
OvertimeStatus = Literal["pending", "approved", "rejected", "cancelled"]
OvertimeKind = Literal["daily", "weekly", "rest_day"]


class OvertimeRulesUpdate(RequestBody):
    """The tenant's overtime rules; fields left out keep their value, ``null`` turns a threshold off."""

    daily_threshold_minutes: Threshold | UnsetType | None = UNSET
    weekly_threshold_minutes: Threshold | UnsetType | None = UNSET
    rest_days: RestDays | UnsetType = UNSET
    rest_day_overtime: bool | UnsetType = UNSET
    """Every minute worked on a rest day is overtime."""


class OvertimeRules(ResponseBody):
    rest_days: list[str]
    rest_day_overtime: bool
    daily_threshold_minutes: int | None = None
    weekly_threshold_minutes: int | None = None


class OvertimeResponse(ResponseBody):
    id: UUID
    user_id: UUID
    kind: str
    period_start: date
    """The local day, or the Monday of the week for ``weekly``."""
    timezone: str
    minutes: int
    status: str
    created_at: datetime
    note: str = ""
    decided_by: UUID | None = None
    decided_at: datetime | None = None


RULE_COLUMNS = {
    "daily_threshold_minutes": "overtime_daily_minutes",
    "weekly_threshold_minutes": "overtime_weekly_minutes",
    "rest_days": "rest_days",
    "rest_day_overtime": "overtime_on_rest_days",
}
"""Each field of the rules and the work policy's column it is stored in."""


def rules_response(policy: WorkPolicy) -> OvertimeRules:
    return OvertimeRules(**{field: getattr(policy, column) for field, column in RULE_COLUMNS.items()})


def overtime_response(row: OvertimeRecord) -> OvertimeResponse:
    return msgspec.convert(row, OvertimeResponse, from_attributes=True)
