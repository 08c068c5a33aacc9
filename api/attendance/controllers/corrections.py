"""A supervisor's correction of an attendance entry, with its reason."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, post
from litestar.params import JSONBody, PathParameter

from api.attendance import deps
from api.attendance.deps import CorrectionsDep
from api.attendance.schemas import AttendanceResponse, Correction, attendance_response
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, OriginDep


class CorrectionController(Controller):
    path = "/api/v1/attendance/{attendance_id:uuid}/corrections"
    tags = ["attendance"]
    guards = [requires(Permission.ATTENDANCE_CORRECT)]
    dependencies = {"corrections": deps.corrections}

    @post("/", operation_id="CorrectAttendance", status_code=200)
    async def correct(
        self,
        attendance_id: Annotated[UUID, PathParameter(description="The attendance entry's id.")],
        data: JSONBody[Correction],
        corrections: CorrectionsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AttendanceResponse:
        """Set new clock-in and/or clock-out times with a reason; audited with the times before and after,
        the person is told, and their overtime follows.

        Errors: ``404 not_found``, ``422 nothing_to_correct``, ``422 naive_datetime``, ``422 in_future``,
        ``422 invalid_range``, ``409 overlapping_attendance``, ``409 breaks_outside``; a reason under 3
        characters is ``400 invalid_request``.
        """
        entry = await corrections.correct(attendance_id, data, actor=current_user, origin=origin)
        return attendance_response(entry)
