"""Shifts: plan, list, read, change, cancel and remove them, call off one occurrence of a weekly one, and list
their occurrences in a time range."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter, QueryParameter

from api.auth.guards import requires
from api.auth.permissions import Permission
from api.deps import CallerDep, Limit, Offset, OriginDep
from api.schemas import Page
from api.shifts import deps
from api.shifts.deps import ShiftId, ShiftsDep
from api.shifts.schemas import (
    OccurrenceResponse,
    ShiftCancel,
    ShiftCreate,
    ShiftResponse,
    ShiftUpdate,
    SkipResponse,
    shift_response,
    skip_response,
)
from api.shifts.services import check_range, occurrences_between

UserFilter = Annotated[UUID | None, QueryParameter(description="Only this person's shifts.")]
WorkplaceFilter = Annotated[UUID | None, QueryParameter(description="Only shifts at this workplace.")]


class ShiftController(Controller):
    path = "/api/v1/shifts"
    tags = ["shifts"]
    dependencies = {"shifts": deps.shifts}

    @get("/", operation_id="ListShifts", guards=[requires(Permission.SHIFTS_READ)])
    async def list_shifts(
        self,
        shifts: ShiftsDep,
        user_id: UserFilter = None,
        workplace_id: WorkplaceFilter = None,
        cancelled: Annotated[
            bool | None, QueryParameter(description="Only cancelled shifts (true), or only live ones (false).")
        ] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> Page[ShiftResponse]:
        """Shift definitions, newest first."""
        rows, total = await shifts.page(
            limit=limit, offset=offset, user_id=user_id, workplace_id=workplace_id, cancelled=cancelled
        )
        zones, skipped = await shifts.timezones(rows), await shifts.skipped(rows)
        items = [shift_response(s, zones[s.workplace_id], skipped.get(s.id, ())) for s in rows]
        return Page(items=items, total=total, limit=limit, offset=offset)

    @get("/occurrences", operation_id="ListShiftOccurrences", guards=[requires(Permission.SHIFTS_READ)])
    async def list_occurrences(
        self,
        shifts: ShiftsDep,
        from_: Annotated[datetime, QueryParameter(name="from", description="Start of the range, with an offset.")],
        to: Annotated[datetime, QueryParameter(description="End of the range (excluded), with an offset.")],
        user_id: UserFilter = None,
        workplace_id: WorkplaceFilter = None,
    ) -> list[OccurrenceResponse]:
        """Every occurrence overlapping the range, by start; weekly shifts expanded in their workplace's time zone
        (``422 naive_datetime``, ``422 invalid_range`` for an empty range or one over 62 days)."""
        starts, ends = check_range(from_, to)
        found = await occurrences_between(shifts.session, starts, ends, user_id=user_id, workplace_id=workplace_id)
        return [
            OccurrenceResponse(
                shift_id=shift.id,
                user_id=shift.user_id,
                workplace_id=shift.workplace_id,
                starts_at=span.starts_at,
                ends_at=span.ends_at,
                starts_local=span.starts_at.astimezone(ZoneInfo(zone)).isoformat(),
                ends_local=span.ends_at.astimezone(ZoneInfo(zone)).isoformat(),
            )
            for shift, zone, span in found
        ]

    @get("/{shift_id:uuid}", operation_id="GetShift", guards=[requires(Permission.SHIFTS_READ)])
    async def get_shift(self, shifts: ShiftsDep, shift_id: ShiftId) -> ShiftResponse:
        """One shift, with the dates of its occurrences called off (``404 not_found``)."""
        shift = await shifts.get(shift_id)
        zones, skipped = await shifts.timezones([shift]), await shifts.skipped([shift])
        return shift_response(shift, zones[shift.workplace_id], skipped.get(shift.id, ()))

    @post("/", operation_id="CreateShift", status_code=201, guards=[requires(Permission.SHIFTS_WRITE)])
    async def create_shift(
        self, data: JSONBody[ShiftCreate], shifts: ShiftsDep, current_user: CallerDep, origin: OriginDep
    ) -> ShiftResponse:
        """Plan a one-off (``starts_at``, ``ends_at``) or weekly (``recurrence``) shift.

        Errors: ``404 not_found`` (user or workplace), ``422 invalid_shift``, ``422 naive_datetime``,
        ``422 invalid_range``, ``422 user_not_assigned``, ``409 shift_overlap`` (with the other shift's id and
        the clashing occurrence).
        """
        shift = await shifts.create_shift(data, actor=current_user, origin=origin)
        zones = await shifts.timezones([shift])
        return shift_response(shift, zones[shift.workplace_id])

    @patch("/{shift_id:uuid}", operation_id="UpdateShift", guards=[requires(Permission.SHIFTS_WRITE)])
    async def update_shift(
        self,
        shifts: ShiftsDep,
        shift_id: ShiftId,
        data: JSONBody[ShiftUpdate],
        current_user: CallerDep,
        origin: OriginDep,
    ) -> ShiftResponse:
        """Move a shift to another person, workplace or time, or change its note; the people concerned are told.

        New times are checked as for a new shift, in the (new) workplace's time zone for a weekly one.
        Errors: ``404 not_found`` (shift, user or workplace), ``409 shift_cancelled``, ``422 invalid_shift``,
        ``422 naive_datetime``, ``422 invalid_range``, ``422 user_not_assigned``, ``409 shift_overlap``.
        """
        shift = await shifts.update_shift(shift_id, data, actor=current_user, origin=origin)
        zones, skipped = await shifts.timezones([shift]), await shifts.skipped([shift])
        return shift_response(shift, zones[shift.workplace_id], skipped.get(shift.id, ()))

    @post(
        "/{shift_id:uuid}/cancel",
        operation_id="CancelShift",
        status_code=200,
        guards=[requires(Permission.SHIFTS_WRITE)],
    )
    async def cancel_shift(
        self,
        shifts: ShiftsDep,
        shift_id: ShiftId,
        data: JSONBody[ShiftCancel],
        current_user: CallerDep,
        origin: OriginDep,
    ) -> ShiftResponse:
        """Call a shift off with a reason: it stays listed, has no occurrences, and its person is told
        (``404 not_found``, ``409 shift_cancelled``)."""
        shift = await shifts.cancel_shift(shift_id, data, actor=current_user, origin=origin)
        zones, skipped = await shifts.timezones([shift]), await shifts.skipped([shift])
        return shift_response(shift, zones[shift.workplace_id], skipped.get(shift.id, ()))

    @post(
        "/{shift_id:uuid}/occurrences/{day:date}/cancel",
        operation_id="CancelShiftOccurrence",
        status_code=201,
        guards=[requires(Permission.SHIFTS_WRITE)],
    )
    async def cancel_occurrence(
        self,
        shifts: ShiftsDep,
        shift_id: ShiftId,
        day: Annotated[
            date, PathParameter(description="The local date (workplace's time zone) the occurrence starts on.")
        ],
        data: JSONBody[ShiftCancel],
        current_user: CallerDep,
        origin: OriginDep,
    ) -> SkipResponse:
        """Call off one occurrence of a weekly shift with a reason: every listing of occurrences (and the board,
        the lateness job and reports) passes over it, its time is free for another shift, and its person is told.

        Errors: ``404 not_found``, ``409 shift_cancelled`` (the whole shift is), ``422 not_recurring`` (a one-off
        shift: cancel it whole), ``422 not_an_occurrence`` (no occurrence starts on that date),
        ``409 occurrence_cancelled`` (called off already), ``409 occurrence_started``.
        """
        skip, shift, zone = await shifts.cancel_occurrence(shift_id, day, data, actor=current_user, origin=origin)
        return skip_response(skip, shift, zone)

    @delete("/{shift_id:uuid}", operation_id="DeleteShift", status_code=204, guards=[requires(Permission.SHIFTS_WRITE)])
    async def delete_shift(
        self, shifts: ShiftsDep, shift_id: ShiftId, current_user: CallerDep, origin: OriginDep
    ) -> None:
        """Remove a shift; its person is told unless it was cancelled (``404 not_found``)."""
        await shifts.delete_shift(shift_id, actor=current_user, origin=origin)
