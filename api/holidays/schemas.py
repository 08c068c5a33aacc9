"""Request and response bodies of the public holiday endpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from api.schemas import RequestBody, ResponseBody
from persistence.models import PublicHoliday

HolidayName = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Region = Annotated[str, msgspec.Meta(min_length=1, max_length=100, description="A region, as on workplaces.")]


class HolidayCreate(RequestBody):
    """A day off for the whole tenant, or for one ``region`` or one ``workplace_id`` (not both)."""

    day: date
    name: HolidayName
    region: Region | None = None
    workplace_id: UUID | None = None


class HolidayUpdate(RequestBody):
    """A new date or name; the scope of a holiday does not change (remove it and add another)."""

    day: date | UnsetType = UNSET
    name: HolidayName | UnsetType = UNSET


class HolidayResponse(ResponseBody):
    id: UUID
    day: date
    name: str
    region: str | None = None
    workplace_id: UUID | None = None


def holiday_response(row: PublicHoliday) -> HolidayResponse:
    return HolidayResponse(id=row.id, day=row.day, name=row.name, region=row.region, workplace_id=row.workplace_id)
