"""Corrections of an attendance entry, with their reason: direct by a supervisor on someone else's entry, or
asked for by the person on their own entry and applied once approved."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, post
from litestar.params import JSONBody, PathParameter

from api.attendance import deps
from api.attendance.correction_requests import correction_response, request_correction
from api.attendance.deps import CorrectionsDep
from api.attendance.schemas import (
    AttendanceResponse,
    Correction,
    CorrectionRequestResponse,
    attendance_response,
)
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession, OriginDep

AttendanceId = Annotated[UUID, PathParameter(description="The attendance entry's id.")]


class CorrectionController(Controller):
    path = "/api/v1/attendance/{attendance_id:uuid}"
    tags = ["attendance"]
    dependencies = {"corrections": deps.corrections}

    @post(
        "/corrections",
        operation_id="CorrectAttendance",
        status_code=200,
        guards=[requires(Permission.ATTENDANCE_CORRECT)],
    )
    async def correct(
        self,
        attendance_id: AttendanceId,
        data: JSONBody[Correction],
        corrections: CorrectionsDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> AttendanceResponse:
        """Set new clock-in and/or clock-out times on someone else's entry with a reason, at once; audited with
        the times before and after, the person is told, and their overtime follows. One's own entry is
        corrected through ``POST .../correction-requests`` (approval) instead.

        Errors: ``404 not_found``, ``403 own_entry`` for the caller's own entry, ``422 nothing_to_correct``,
        ``422 naive_datetime``, ``422 in_future``, ``422 invalid_range``, ``409 overlapping_attendance``,
        ``409 breaks_outside``; a reason under 3 characters is ``400 invalid_request``.
        """
        entry = await corrections.correct(attendance_id, data, actor=current_user, origin=origin)
        return attendance_response(entry)

    @post(
        "/correction-requests",
        operation_id="RequestAttendanceCorrection",
        status_code=202,
        guards=[requires(Permission.ATTENDANCE_CLOCK)],
    )
    async def request_correction(
        self,
        attendance_id: AttendanceId,
        data: JSONBody[Correction],
        db_session: DbSession,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> CorrectionRequestResponse:
        """Ask for new clock-in and/or clock-out times on one's own entry, with a reason. Nothing changes yet:
        the correction waits (``pending``) for an approval request of kind ``attendance_correction``, sent to
        the tenant's workflow in the same transaction; once approved the entry takes the times (audited, overtime
        recomputed); rejected, cancelled or expired, nothing changes and the person is told.

        Errors: ``404 not_found`` (also for someone else's entry), ``422 nothing_to_correct``,
        ``422 naive_datetime``, ``422 in_future``, ``422 invalid_range``, ``409 overlapping_attendance``,
        ``409 breaks_outside``, ``409 correction_pending`` while another correction of the entry waits,
        ``422 no_workflow`` / ``422 no_approvers`` when nobody can approve it; a reason under 3 characters is
        ``400 invalid_request``.
        """
        request = await request_correction(db_session, attendance_id, data, actor=current_user, origin=origin)
        return correction_response(request)
