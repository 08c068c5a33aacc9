"""A supervisor's view: who clocked in at a workplace on one day of its own calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import PathParameter

from api.attendance import deps
from api.attendance.deps import AttendanceDep
from api.attendance.schemas import WorkplaceDay
from api.auth.guards import requires
from api.auth.permissions import Permission


class WorkplaceDayController(Controller):
    path = "/api/v1/attendance/workplaces/{workplace_id:uuid}/days/{day:date}"
    tags = ["attendance"]
    guards = [requires(Permission.ATTENDANCE_READ)]
    dependencies = {"attendance": deps.attendance}

    @get("/", operation_id="WorkplaceAttendanceDay")
    async def workplace_day(
        self,
        attendance: AttendanceDep,
        workplace_id: Annotated[UUID, PathParameter(description="The workplace's id.")],
        day: Annotated[date, PathParameter(description="A calendar day in the workplace's time zone.")],
    ) -> WorkplaceDay:
        """Attendance clocked in from local midnight to the next (23 or 25 hours across a DST change)."""
        return await attendance.workplace_day(workplace_id, day)
