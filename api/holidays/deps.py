"""Provider of the holiday service, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.holidays.services import HolidayService

holidays = per_request(HolidayService)

HolidaysDep = NamedDependency[HolidayService]
"""The request's holiday service (``holidays`` parameter)."""

HolidayId = Annotated[UUID, PathParameter(description="The holiday's id.")]
