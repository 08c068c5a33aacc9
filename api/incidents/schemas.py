"""Request and response bodies of the incident endpoints.

Times must carry an offset (``422 naive_datetime`` otherwise). Photos are uploads of
``POST /api/v1/files`` made by the reporter and not shared anywhere else.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from api.schemas import RequestBody, ResponseBody
from api.workplaces.schemas import Latitude, Longitude
from persistence.models import Incident, IncidentStep

IncidentType = Annotated[
    str, msgspec.Meta(min_length=1, max_length=50, description="What happened: slip, fire, injury, near_miss.")
]
Description = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, description="Why this step, what was found.")]
Severity = Literal["low", "medium", "high", "critical"]
IncidentStatus = Literal["open", "investigating", "corrective_action", "closed"]
MAX_PHOTOS = 10
MAX_PEOPLE = 50


class IncidentCreate(RequestBody):
    """A report from the field: where (a workplace, a point, or both), what, how bad, who, and photos.

    A ``critical`` one alerts the workplace's supervisors and the safety role at once, through quiet hours.
    """

    type: IncidentType
    severity: Severity
    description: Description
    workplace_id: UUID | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    occurred_at: datetime | None = None
    """When it happened (default: now); not in the future."""
    photo_ids: Annotated[list[UUID], msgspec.Meta(max_length=MAX_PHOTOS)] = msgspec.field(default_factory=list)
    people_involved: Annotated[list[UUID], msgspec.Meta(max_length=MAX_PEOPLE)] = msgspec.field(default_factory=list)


class IncidentStatusChange(RequestBody):
    """The next step: open -> investigating -> corrective_action -> closed (investigating may close at once,
    corrective action may go back to investigating)."""

    status: IncidentStatus
    note: Note


class IncidentResponse(ResponseBody):
    id: UUID
    type: str
    severity: str
    description: str
    status: str
    occurred_at: datetime
    created_at: datetime
    updated_at: datetime
    workplace_id: UUID | None = None
    latitude: float | None = None
    longitude: float | None = None
    reported_by: UUID | None = None
    closed_at: datetime | None = None


class IncidentStepResponse(ResponseBody):
    id: UUID
    to_status: str
    note: str
    at: datetime
    from_status: str | None = None
    actor_id: UUID | None = None


class IncidentDetail(IncidentResponse, kw_only=True):
    """An incident with its photos (file ids), the people involved and every step so far, oldest first."""

    photo_ids: list[UUID]
    people_involved: list[UUID]
    history: list[IncidentStepResponse]


def incident_response(incident: Incident) -> IncidentResponse:
    return msgspec.convert(incident, IncidentResponse, from_attributes=True)


def step_response(step: IncidentStep) -> IncidentStepResponse:
    return msgspec.convert(step, IncidentStepResponse, from_attributes=True)
