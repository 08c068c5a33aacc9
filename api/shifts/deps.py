"""Provider of the shift service, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.shifts.services import ShiftService

shifts = per_request(ShiftService)

ShiftsDep = NamedDependency[ShiftService]
"""The request's shift service (``shifts`` parameter)."""

ShiftId = Annotated[UUID, PathParameter(description="The shift's id.")]
