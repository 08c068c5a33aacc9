"""Provider of the overtime service, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import per_request
from api.overtime.services import OvertimeService

overtime = per_request(OvertimeService)

OvertimeDep = NamedDependency[OvertimeService]
"""The request's overtime service (``overtime`` parameter)."""
