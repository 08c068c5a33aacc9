"""Providers of the attendance services, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.attendance.corrections import CorrectionService
from api.attendance.services import AttendanceService
from api.deps import per_request

attendance = per_request(AttendanceService)
corrections = per_request(CorrectionService)

AttendanceDep = NamedDependency[AttendanceService]
"""The request's attendance service (``attendance`` parameter)."""
CorrectionsDep = NamedDependency[CorrectionService]
"""The request's attendance correction service (``corrections`` parameter)."""
