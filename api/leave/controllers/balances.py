"""Leave balances for a year: one's own, or anyone's."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.params import PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, DbSession
from api.leave.balances import balances
from api.leave.schemas import Balances
from api.leave.services import local_today
from api.workplaces.base import require_row
from persistence.models import User

Year = Annotated[int | None, QueryParameter(ge=2000, le=2100, description="The calendar year; this year by default.")]


async def balances_of(db_session: DbSession, user_id: UUID, year: int | None) -> Balances:
    user: User = await require_row(db_session, User, user_id, "user_id")
    today = local_today(user.timezone)
    year = year or today.year
    return Balances(
        user_id=user.id,
        year=year,
        timezone=user.timezone,
        balances=await balances(db_session, user.id, year, today),
    )


class LeaveBalanceController(Controller):
    path = "/api/v1/leave/balances"
    tags = ["leave"]

    @get("/mine", operation_id="MyLeaveBalances", guards=[requires(Permission.LEAVE_REQUEST)])
    async def mine(self, db_session: DbSession, current_user: CallerDep, year: Year = None) -> Balances:
        """One's balance of each active leave type: entitled, accrued to date, taken, pending and available days."""
        return await balances_of(db_session, current_user.id, year)

    @get("/{user_id:uuid}", operation_id="UserLeaveBalances", guards=[requires(Permission.LEAVE_READ)])
    async def of_user(
        self,
        db_session: DbSession,
        user_id: Annotated[UUID, PathParameter(description="The person's id.")],
        year: Year = None,
    ) -> Balances:
        """A person's balances (``404 not_found``)."""
        return await balances_of(db_session, user_id, year)
