"""Public holidays: anyone who sees shifts reads the calendar; the tenant's admins keep it."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.errors import AppError
from api.holidays import deps
from api.holidays.deps import HolidayId, HolidaysDep
from api.holidays.schemas import HolidayCreate, HolidayResponse, HolidayUpdate, holiday_response
from api.schemas import Page

MAX_DAYS = 800
"""The longest span of dates one listing covers (two years and some)."""


class HolidayController(Controller):
    path = "/api/v1/holidays"
    tags = ["holidays"]
    dependencies = {"holidays": deps.holidays}

    @get("/", operation_id="ListHolidays", guards=[requires(Permission.SHIFTS_READ)])
    async def list_holidays(
        self,
        holidays: HolidaysDep,
        from_: Annotated[date, QueryParameter(name="from", description="First date, included.")],
        to: Annotated[date, QueryParameter(description="Last date, included (at most 800 days on).")],
        region: Annotated[str | None, QueryParameter(description="Only holidays kept in this region.")] = None,
        workplace_id: Annotated[UUID | None, QueryParameter(description="Only holidays kept here.")] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[HolidayResponse]:
        """The holidays in a date range, by date; the tenant's own are kept everywhere
        (``422 invalid_range``, ``404 not_found`` for the workplace)."""
        if to < from_ or (to - from_).days > MAX_DAYS:
            raise AppError(
                "invalid_range",
                f"'to' must not be before 'from', and at most {MAX_DAYS} days after it.",
                status_code=422,
                details={"fields": ["from", "to"], "max_days": MAX_DAYS},
            )
        rows, total = await holidays.page(
            first=from_, last=to, limit=limit, offset=offset, region=region, workplace_id=workplace_id
        )
        return Page(items=[holiday_response(r) for r in rows], total=total, limit=limit, offset=offset)

    @post("/", operation_id="CreateHoliday", status_code=201, guards=[requires(Permission.ATTENDANCE_ADMIN)])
    async def create_holiday(
        self, data: JSONBody[HolidayCreate], holidays: HolidaysDep, current_user: CallerDep, origin: OriginDep
    ) -> HolidayResponse:
        """Add a holiday for the tenant, a region or a workplace: leave on it is not counted, work on it counts
        as on a rest day, and nobody is late for a shift on it.

        Errors: ``422 invalid_scope``, ``404 not_found`` (workplace), ``409 conflict`` (a holiday on that date
        and scope exists).
        """
        return holiday_response(await holidays.add(data, actor=current_user, origin=origin))

    @patch("/{holiday_id:uuid}", operation_id="UpdateHoliday", guards=[requires(Permission.ATTENDANCE_ADMIN)])
    async def update_holiday(
        self,
        holiday_id: HolidayId,
        data: JSONBody[HolidayUpdate],
        holidays: HolidaysDep,
        current_user: CallerDep,
        origin: OriginDep,
    ) -> HolidayResponse:
        """Move or rename a holiday (``404 not_found``, ``409 conflict``)."""
        return holiday_response(await holidays.change(holiday_id, data, actor=current_user, origin=origin))

    @delete(
        "/{holiday_id:uuid}",
        operation_id="DeleteHoliday",
        status_code=204,
        guards=[requires(Permission.ATTENDANCE_ADMIN)],
    )
    async def delete_holiday(
        self, holiday_id: HolidayId, holidays: HolidaysDep, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """Remove a holiday (``404 not_found``)."""
        await holidays.remove(holiday_id, actor=current_user, origin=origin)
