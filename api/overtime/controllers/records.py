"""Overtime records: one's own, everyone's, and withdrawing one's own pending claim."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.overtime import deps
from api.overtime.deps import OvertimeDep
from api.overtime.schemas import OvertimeResponse, OvertimeStatus, overtime_response
from api.schemas import Page

StatusFilter = Annotated[OvertimeStatus | None, QueryParameter(description="Only records in this status.")]
Since = Annotated[date | None, QueryParameter(name="from", description="Only periods starting on or after.")]
Until = Annotated[date | None, QueryParameter(name="to", description="Only periods starting on or before.")]


class OvertimeController(Controller):
    path = "/api/v1/overtime"
    tags = ["overtime"]
    dependencies = {"overtime": deps.overtime}

    @get("/", operation_id="ListOvertime", guards=[requires(Permission.ATTENDANCE_READ)])
    async def list_overtime(
        self,
        overtime: OvertimeDep,
        user_id: Annotated[UUID | None, QueryParameter(description="Only this person's.")] = None,
        status: StatusFilter = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OvertimeResponse]:
        """Everyone's overtime, latest period first. Records are computed on clock-out and on corrections."""
        rows, total = await overtime.page(
            limit=limit, offset=offset, user_id=user_id, status=status, since=since, until=until
        )
        return Page(items=[overtime_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @get("/mine", operation_id="ListMyOvertime", guards=[requires(Permission.ATTENDANCE_CLOCK)])
    async def mine(
        self,
        overtime: OvertimeDep,
        current_user: CallerDep,
        status: StatusFilter = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[OvertimeResponse]:
        """One's own overtime, latest period first."""
        rows, total = await overtime.page(
            limit=limit, offset=offset, user_id=current_user.id, status=status, since=since, until=until
        )
        return Page(items=[overtime_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @post(
        "/{overtime_id:uuid}/cancel",
        operation_id="CancelOvertime",
        status_code=200,
        guards=[requires(Permission.ATTENDANCE_CLOCK)],
    )
    async def cancel(
        self,
        overtime: OvertimeDep,
        current_user: CallerDep,
        origin: OriginDep,
        overtime_id: Annotated[UUID, PathParameter(description="The overtime record's id.")],
    ) -> OvertimeResponse:
        """Withdraw one's own pending overtime and its approval request (``404 not_found``, also for someone
        else's; ``409 not_pending``)."""
        return overtime_response(await overtime.cancel(overtime_id, actor=current_user, origin=origin))
