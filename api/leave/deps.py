"""Providers of the leave services, one per request, on the request's transaction."""

from __future__ import annotations

from litestar.di import NamedDependency

from api.deps import per_request
from api.leave.services import LeaveRequestService, LeaveTypeService

leave_types = per_request(LeaveTypeService)
leave_requests = per_request(LeaveRequestService)

LeaveTypesDep = NamedDependency[LeaveTypeService]
"""The request's leave type service (``leave_types`` parameter)."""
LeaveRequestsDep = NamedDependency[LeaveRequestService]
"""The request's leave request service (``leave_requests`` parameter)."""
