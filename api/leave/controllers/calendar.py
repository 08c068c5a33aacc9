"""The team calendar: who is away in a range of dates, and the public holidays then."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import DbSession
from api.leave.calendar import team_calendar
from api.leave.schemas import TeamCalendar


class LeaveCalendarController(Controller):
    path = "/api/v1/leave/calendar"
    tags = ["leave"]

    @get("/", operation_id="LeaveCalendar", guards=[requires(Permission.LEAVE_REQUEST)])
    async def calendar(
        self,
        db_session: DbSession,
        from_: Annotated[date, QueryParameter(name="from", description="First date, included.")],
        to: Annotated[date, QueryParameter(description="Last date, included (at most 93 days after 'from').")],
        department_id: Annotated[
            UUID | None, QueryParameter(description="Only people of this department and its sub-departments.")
        ] = None,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only people assigned here now.")] = None,
        include_pending: Annotated[bool, QueryParameter(description="Also requests awaiting approval.")] = False,
    ) -> TeamCalendar:
        """Who is away on some of the dates, by start, and the public holidays on them: those kept at the
        workplace, else the tenant's and those kept where the department's people work, else all the tenant's
        (``422 invalid_range``; ``404 not_found`` for a department or workplace not in the tenant)."""
        return await team_calendar(
            db_session,
            first=from_,
            last=to,
            department_id=department_id,
            workplace_id=workplace_id,
            include_pending=include_pending,
        )
