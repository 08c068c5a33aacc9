"""Provider of the maintenance service, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.maintenance.services import MaintenanceService

maintenance = per_request(MaintenanceService)

MaintenanceDep = NamedDependency[MaintenanceService]
"""The request's maintenance service (``maintenance`` parameter)."""

RequestId = Annotated[UUID, PathParameter(description="The maintenance request's id.")]
