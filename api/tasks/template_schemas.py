"""Request and response bodies of the recurring task templates.

``due_time`` is a wall-clock time (``HH:MM``) in the workplace's time zone, or in ``timezone`` for a
template without a workplace; dates are local dates.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.identity.schemas import TimeZoneName
from api.schemas import RequestBody, ResponseBody
from api.tasks.recurrence import Frequency
from api.tasks.schemas import ChecklistText, Description, Labels, Priority, Title
from persistence.models import TaskTemplate

LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]
Weekdays = Annotated[list[Annotated[int, msgspec.Meta(ge=0, le=6)]], msgspec.Meta(max_length=7)]
MonthDay = Annotated[int, msgspec.Meta(ge=1, le=31)]
Checklist = Annotated[list[ChecklistText], msgspec.Meta(max_length=100)]


class TemplateCreate(RequestBody):
    """A recurring task: ``daily``; ``weekly`` on ``weekdays`` (0 = Monday); or ``monthly`` on ``month_day``
    (the month's last day when it is shorter). Each occurrence becomes a task due at ``due_time``, for
    the assignee, role or workplace staff the template names (``422 invalid_recurrence``,
    ``422 timezone_required``, ``422 invalid_timezone``)."""

    title: Title
    frequency: Frequency
    due_time: LocalTime
    starts_on: date
    description: Description = ""
    priority: Priority = "normal"
    labels: Labels = msgspec.field(default_factory=list)
    requires_photo: bool = False
    checklist: Checklist = msgspec.field(default_factory=list)
    assignee_id: UUID | None = None
    assignee_role_id: UUID | None = None
    workplace_id: UUID | None = None
    weekdays: Weekdays = msgspec.field(default_factory=list)
    month_day: MonthDay | None = None
    timezone: TimeZoneName | None = None
    ends_on: date | None = None


class TemplateUpdate(RequestBody):
    """Change a template; tasks generated already keep what they were given. ``active: false`` stops it."""

    title: Title | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    labels: Labels | UnsetType = UNSET
    requires_photo: bool | UnsetType = UNSET
    checklist: Checklist | UnsetType = UNSET
    assignee_id: UUID | UnsetType | None = UNSET
    assignee_role_id: UUID | UnsetType | None = UNSET
    workplace_id: UUID | UnsetType | None = UNSET
    frequency: Frequency | UnsetType = UNSET
    due_time: LocalTime | UnsetType = UNSET
    weekdays: Weekdays | UnsetType = UNSET
    month_day: MonthDay | UnsetType | None = UNSET
    timezone: TimeZoneName | UnsetType | None = UNSET
    starts_on: date | UnsetType = UNSET
    ends_on: date | UnsetType | None = UNSET
    active: bool | UnsetType = UNSET


class TemplateResponse(ResponseBody):
    id: UUID
    title: str
    description: str
    priority: str
    labels: list[str]
    requires_photo: bool
    checklist: list[str]
    frequency: str
    weekdays: list[int]
    due_time: str
    starts_on: date
    active: bool
    created_at: datetime
    assignee_id: UUID | None = None
    assignee_role_id: UUID | None = None
    workplace_id: UUID | None = None
    month_day: int | None = None
    timezone: str | None = None
    ends_on: date | None = None


def parse_local_time(value: str) -> time:
    """``"09:30"`` -> ``time(9, 30)`` (the schema has checked the shape)."""
    return time.fromisoformat(value)


def template_response(template: TaskTemplate) -> TemplateResponse:
    return TemplateResponse(
        id=template.id,
        title=template.title,
        description=template.description,
        priority=template.priority,
        labels=list(template.labels),
        requires_photo=template.requires_photo,
        checklist=list(template.checklist),
        frequency=template.frequency,
        weekdays=list(template.weekdays),
        due_time=template.due_time.strftime("%H:%M"),
        starts_on=template.starts_on,
        active=template.active,
        created_at=template.created_at,
        assignee_id=template.assignee_id,
        assignee_role_id=template.assignee_role_id,
        workplace_id=template.workplace_id,
        month_day=template.month_day,
        timezone=template.timezone,
        ends_on=template.ends_on,
    )
