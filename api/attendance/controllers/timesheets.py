"""Timesheets: worked time, breaks and net time per local day and week, one's own or anyone's."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from api.attendance.schemas import Timesheet
from api.attendance.timesheets import timesheet
from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession
from api.workplaces.base import utc_now

From = Annotated[date, QueryParameter(name="from", description="First local date, included.")]
To = Annotated[date, QueryParameter(description="Last local date, included (at most 62 days after 'from').")]


class TimesheetController(Controller):
    path = "/api/v1/attendance/timesheets"
    tags = ["attendance"]

    @get("/mine", operation_id="MyTimesheet", guards=[requires(Permission.ATTENDANCE_CLOCK)])
    async def mine(self, db_session: DbSession, current_user: CallerDep, from_: From, to: To) -> Timesheet:
        """One's timesheet in one's own time zone; each day from local midnight to the next, so 23 or 25 hours
        across a DST change (``422 invalid_range``)."""
        return await timesheet(db_session, user_id=current_user.id, first=from_, last=to, now=utc_now())

    @get("/{user_id:uuid}", operation_id="UserTimesheet", guards=[requires(Permission.ATTENDANCE_READ)])
    async def of_user(
        self,
        db_session: DbSession,
        user_id: Annotated[UUID, PathParameter(description="The person's id.")],
        from_: From,
        to: To,
    ) -> Timesheet:
        """A person's timesheet in their time zone (``404 not_found``, ``422 invalid_range``)."""
        return await timesheet(db_session, user_id=user_id, first=from_, last=to, now=utc_now())
