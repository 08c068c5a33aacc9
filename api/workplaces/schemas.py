"""Request and response bodies of the workplace endpoints: workplaces and assignments.

Update bodies use ``msgspec.UNSET`` for "leave as is", so ``null`` can clear a nullable field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import Workplace, WorkplaceAssignment

WorkplaceName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
WorkplaceCode = Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
Address = Annotated[str, msgspec.Meta(max_length=1000)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90, description="Degrees north, -90 to 90.")]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180, description="Degrees east, -180 to 180.")]
GeofenceRadius = Annotated[int, msgspec.Meta(ge=10, le=10_000, description="Metres around the point, 10 to 10000.")]
TimeZoneName = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="An IANA zone: Europe/Paris.")]
Region = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="HH:MM, local.")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
OpeningHours = dict[Weekday, list[tuple[ClockTime, ClockTime]]]
WorkplaceStatus = Literal["active", "inactive", "closed"]
AssignmentRole = Literal["staff", "supervisor"]


class WorkplaceCreate(RequestBody):
    """A new store or site; ``code`` is unique in the tenant, ``opening_hours`` maps weekdays to intervals."""

    name: WorkplaceName
    code: WorkplaceCode
    latitude: Latitude
    longitude: Longitude
    timezone: TimeZoneName
    geofence_radius_m: GeofenceRadius = 150
    address: Address = ""
    opening_hours: OpeningHours = msgspec.field(default_factory=dict)
    region: Region | None = None
    department_id: UUID | None = None
    status: WorkplaceStatus = "active"


class WorkplaceUpdate(RequestBody):
    name: WorkplaceName | UnsetType = UNSET
    code: WorkplaceCode | UnsetType = UNSET
    latitude: Latitude | UnsetType = UNSET
    longitude: Longitude | UnsetType = UNSET
    timezone: TimeZoneName | UnsetType = UNSET
    geofence_radius_m: GeofenceRadius | UnsetType = UNSET
    address: Address | UnsetType = UNSET
    opening_hours: OpeningHours | UnsetType = UNSET
    region: Region | UnsetType | None = UNSET
    department_id: UUID | UnsetType | None = UNSET
    status: WorkplaceStatus | UnsetType = UNSET


class WorkplaceResponse(ResponseBody):
    id: UUID
    name: str
    code: str
    address: str
    latitude: float
    longitude: float
    geofence_radius_m: int
    timezone: str
    opening_hours: dict[str, list[list[str]]]
    status: str
    created_at: datetime
    updated_at: datetime
    region: str | None = None
    department_id: UUID | None = None
    distance_m: float | None = None
    """Metres from the searched point, when the list was searched by distance."""


class AssignmentCreate(RequestBody):
    """Assign a person; they join the workplace's chat channel."""

    user_id: UUID
    role: AssignmentRole = "staff"


class AssignmentResponse(ResponseBody):
    id: UUID
    workplace_id: UUID
    user_id: UUID
    role: str
    started_at: datetime
    ended_at: datetime | None = None
    assigned_by: UUID | None = None
    ended_by: UUID | None = None


def workplace_response(workplace: Workplace, distance_m: float | None = None) -> WorkplaceResponse:
    response = msgspec.convert(workplace, WorkplaceResponse, from_attributes=True)
    if distance_m is not None:
        response = msgspec.structs.replace(response, distance_m=round(distance_m, 1))
    return response


def assignment_response(assignment: WorkplaceAssignment) -> AssignmentResponse:
    return msgspec.convert(assignment, AssignmentResponse, from_attributes=True)
