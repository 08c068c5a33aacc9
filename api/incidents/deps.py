"""Provider of the incident service, one per request, on the request's transaction."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar.di import NamedDependency
from litestar.params import PathParameter

from api.deps import per_request
from api.incidents.services import IncidentService

incidents = per_request(IncidentService)

IncidentsDep = NamedDependency[IncidentService]
"""The request's incident service (``incidents`` parameter)."""

IncidentId = Annotated[UUID, PathParameter(description="The incident's id.")]
