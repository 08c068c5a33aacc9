"""One's own attendance: clock in, clock out, breaks, and the list of one's stays."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from api.attendance import deps
from api.attendance.deps import AttendanceDep
from api.attendance.schemas import (
    AttendanceResponse,
    BreakEvent,
    BreakResponse,
    ClockIn,
    ClockOut,
    attendance_response,
    break_response,
)
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page


class ClockController(Controller):
    path = "/api/v1/attendance"
    tags = ["attendance"]
    guards = [requires(Permission.ATTENDANCE_CLOCK)]
    dependencies = {"attendance": deps.attendance}

    @post("/clock-in", operation_id="ClockIn", status_code=201)
    async def clock_in(
        self, data: JSONBody[ClockIn], attendance: AttendanceDep, current_user: CallerDep, origin: OriginDep
    ) -> AttendanceResponse:
        """Clock in at an assigned workplace from inside its geofence; ``occurred_at`` for an offline clock-in.

        Errors: ``404 not_found``, ``403 not_assigned``, ``409 workplace_inactive``,
        ``422 outside_geofence`` (with ``distance_m``; accepted with ``clock_in_flagged`` when the tenant's
        geofence policy is ``flag``), ``409 already_clocked_in``, ``409 out_of_order``,
        ``422 naive_datetime`` / ``in_future`` / ``too_old``.
        """
        return attendance_response(await attendance.clock_in(data, actor=current_user, origin=origin))

    @post("/clock-out", operation_id="ClockOut", status_code=200)
    async def clock_out(
        self, data: JSONBody[ClockOut], attendance: AttendanceDep, current_user: CallerDep, origin: OriginDep
    ) -> AttendanceResponse:
        """Clock out from inside the workplace's geofence; an open break ends with it, and overtime is computed.

        Errors: ``409 not_clocked_in``, ``409 out_of_order``, ``422 outside_geofence``,
        ``422 naive_datetime`` / ``in_future`` / ``too_old``.
        """
        return attendance_response(await attendance.clock_out(data, actor=current_user, origin=origin))

    @post("/breaks/start", operation_id="StartBreak", status_code=201)
    async def start_break(
        self, attendance: AttendanceDep, current_user: CallerDep, origin: OriginDep, data: JSONBody[BreakEvent]
    ) -> BreakResponse:
        """Start a break of one's open attendance (``occurred_at`` for one sent later).

        Errors: ``409 not_clocked_in``, ``409 already_on_break``, ``409 out_of_order``,
        ``422 naive_datetime`` / ``in_future`` / ``too_old``.
        """
        return break_response(await attendance.start_break(data, actor=current_user, origin=origin))

    @post("/breaks/end", operation_id="EndBreak", status_code=200)
    async def end_break(
        self, attendance: AttendanceDep, current_user: CallerDep, origin: OriginDep, data: JSONBody[BreakEvent]
    ) -> BreakResponse:
        """End one's current break.

        Errors: ``409 not_on_break``, ``409 out_of_order``, ``422 naive_datetime`` / ``in_future`` / ``too_old``.
        """
        return break_response(await attendance.end_break(data, actor=current_user, origin=origin))

    @get("/mine", operation_id="ListMyAttendance")
    async def mine(
        self,
        attendance: AttendanceDep,
        current_user: CallerDep,
        since: Annotated[
            datetime | None, QueryParameter(description="Only clock-ins at or after this instant (with an offset).")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[AttendanceResponse]:
        """One's own attendance, latest first (``422 naive_datetime`` for ``since`` without an offset)."""
        rows, total = await attendance.mine(current_user.id, limit=limit, offset=offset, since=since)
        return Page(items=[attendance_response(r) for r in rows], total=total, limit=limit, offset=offset)
