"""Provider of the attendance service, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.attendance.services import AttendanceService
from api.deps import per_request

attendance = per_request(AttendanceService)

AttendanceDep = NamedDependency[AttendanceService]
"""The request's attendance service (``attendance`` parameter)."""
