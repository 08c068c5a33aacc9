"""Shift rules: only for a person assigned to the workplace, well-formed, and never overlapping another shift of
the same person, one-off or recurring; and the occurrences of the tenant's shifts in a time range.

A person's shift changes are serialised by a transaction-scoped advisory lock, so two shifts created at
once cannot both pass the overlap check.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import and_, or_, select, text

from api.audit import Origin
from api.errors import AppError
from api.shifts.audit import audit_shift
from api.shifts.notices import tell
from api.shifts.recurrence import WEEKDAYS, Span, first_overlap, occurrences
from api.shifts.schemas import MAX_SHIFT_MINUTES, Recurrence, ShiftCreate
from api.shifts.skips import skip_occurrence, skipped_days
from api.workplaces.base import FieldService, changes, equal_to, require_aware, require_row, utc_now
from persistence.models import Shift, ShiftSkip, User, Workplace, WorkplaceAssignment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from api.shifts.schemas import ShiftCancel, ShiftUpdate
    from api.workplaces.schemas import Weekday

MAX_RANGE = timedelta(days=62)
"""The longest time range whose occurrences one request expands."""


def check_range(
    starts: datetime, ends: datetime, *, names: tuple[str, str] = ("from", "to"), longest: timedelta = MAX_RANGE
) -> tuple[datetime, datetime]:
    """Both ends in UTC; ``naive_datetime`` (422) without an offset, ``invalid_range`` (422) when the range
    is empty or longer than ``longest``."""
    starts, ends = require_aware(starts, names[0]), require_aware(ends, names[1])
    if ends <= starts or ends - starts > longest:
        raise AppError(
            "invalid_range",
            f"{names[1]} must be after {names[0]}, by at most {int(longest.total_seconds() // 60)} minutes.",
            status_code=422,
            details={"fields": list(names), "max_minutes": int(longest.total_seconds() // 60)},
        )
    return starts, ends


async def lock_person(session: AsyncSession, user_id: UUID) -> None:
    """Hold the person's shift lock until the transaction ends: their shift changes happen one at a time."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"shift:{user_id}"})


async def occurrences_between(
    session: AsyncSession,
    starts: datetime,
    ends: datetime,
    *,
    user_id: UUID | None = None,
    workplace_id: UUID | None = None,
) -> list[tuple[Shift, str, Span]]:
    """Every occurrence of the tenant's shifts overlapping ``[starts, ends)``, with its workplace's time zone,
    ordered by start. ``starts`` and ``ends`` must be aware."""
    # Local dates differ from UTC ones by at most a day; a day more covers occurrences running into the range.
    first_day, last_day = (starts - timedelta(days=2)).date(), (ends + timedelta(days=1)).date()
    statement = (
        select(Shift, Workplace.timezone)
        .join(Workplace, Workplace.id == Shift.workplace_id)
        .where(
            Shift.cancelled_at.is_(None),
            or_(
                and_(Shift.kind == "one_off", Shift.starts_at < ends, Shift.ends_at > starts),
                and_(
                    Shift.kind == "weekly",
                    Shift.from_date <= last_day,
                    or_(Shift.until_date.is_(None), Shift.until_date >= first_day),
                ),
            ),
        )
    )
    if user_id is not None:
        statement = statement.where(Shift.user_id == user_id)
    if workplace_id is not None:
        statement = statement.where(Shift.workplace_id == workplace_id)
    rows = (await session.execute(statement)).tuples().all()
    weekly = [shift.id for shift, _ in rows if shift.kind == "weekly"]
    skips = await skipped_days(session, weekly, first_day, last_day)
    found = [
        (shift, zone, span)
        for shift, zone in rows
        for span in occurrences(shift, ZoneInfo(zone), starts, ends, skips.get(shift.id, ()))
    ]
    return sorted(found, key=lambda item: (item[2].starts_at, str(item[0].user_id)))


class ShiftService(FieldService[Shift]):
    """The tenant's planned shifts."""

    class Repo(SQLAlchemyAsyncRepository[Shift]):
        model_type = Shift

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        user_id: UUID | None = None,
        workplace_id: UUID | None = None,
        cancelled: bool | None = None,
    ) -> tuple[Sequence[Shift], int]:
        """One page of shift definitions, newest first; only cancelled ones, or none of them, with ``cancelled``."""
        filters: list[Any] = equal_to(user_id=user_id, workplace_id=workplace_id)
        if cancelled is not None:
            filters.append(Shift.cancelled_at.is_not(None) if cancelled else Shift.cancelled_at.is_(None))
        return await self.page_of(
            filters, limit=limit, offset=offset, order=[OrderBy("created_at", "desc"), OrderBy("id", "desc")]
        )

    async def timezones(self, shifts: Sequence[Shift]) -> dict[UUID, str]:
        """The time zone of each shift's workplace, by workplace id."""
        ids = {shift.workplace_id for shift in shifts}
        rows = await self.session.execute(select(Workplace.id, Workplace.timezone).where(Workplace.id.in_(ids)))
        return dict(rows.tuples().all())

    async def create_shift(self, data: ShiftCreate, *, actor: CurrentUser, origin: Origin) -> Shift:
        """Plan a shift and tell its person.

        Raises:
            AppError: ``not_found`` (404) for a user or workplace not in the tenant; ``invalid_shift`` (422)
                unless exactly one of the two shapes is given; ``naive_datetime`` / ``invalid_range`` (422)
                for one-off times; ``user_not_assigned`` (422); ``shift_overlap`` (409, naming the other
                shift and the clashing occurrence).
        """
        shift = self._shape(data, actor)
        await self._require_fits(shift, [shift.user_id])
        shift = await self.create(shift)
        self._audit(actor, origin, "shift.create", shift, {"kind": shift.kind})
        await tell(self.session, shift, shift.user_id, "planned", version="0")
        return shift

    async def update_shift(self, shift_id: UUID, data: ShiftUpdate, *, actor: CurrentUser, origin: Origin) -> Shift:
        """Change a shift's person, workplace, times or note, checked as a new shift would be; the people it
        concerns before and after are told.

        Raises:
            AppError: ``not_found`` (404) for a shift, user or workplace not in the tenant; ``shift_cancelled``
                (409); and the errors of :meth:`create_shift` for the changed shift (its own times never
                clash with it).
        """
        shift = await self.get_for_update(shift_id)
        if shift.cancelled_at is not None:
            raise AppError("shift_cancelled", "This shift is cancelled; plan a new one.", status_code=409)
        before = shift_facts(shift)
        wanted = self._shape(_merged(shift, data), actor)
        await self._require_fits(wanted, sorted({shift.user_id, wanted.user_id}, key=str), ignore=shift.id)
        previous_user = shift.user_id
        for name in SHAPE_FIELDS:
            setattr(shift, name, getattr(wanted, name))
        shift = await self.update(shift)
        after = shift_facts(shift)
        self._audit(actor, origin, "shift.update", shift, {"before": before, "after": after})
        version = shift.updated_at.isoformat()
        if previous_user != shift.user_id:
            await tell(self.session, shift, previous_user, "given_away", version=version)
            await tell(self.session, shift, shift.user_id, "planned", version=version)
        elif before != after:
            await tell(self.session, shift, shift.user_id, "changed", version=version)
        return shift

    async def cancel_shift(self, shift_id: UUID, data: ShiftCancel, *, actor: CurrentUser, origin: Origin) -> Shift:
        """Call a shift off: it keeps its row but has no occurrences any more; its person is told why.

        Raises:
            AppError: ``not_found`` (404); ``shift_cancelled`` (409) when it is cancelled already.
        """
        shift = await self.get_for_update(shift_id)
        if shift.cancelled_at is not None:
            raise AppError("shift_cancelled", "This shift is cancelled already.", status_code=409)
        shift.cancelled_at, shift.cancelled_by, shift.cancel_reason = utc_now(), actor.id, data.reason
        shift = await self.update(shift)
        self._audit(actor, origin, "shift.cancel", shift, {"reason": data.reason})
        await tell(self.session, shift, shift.user_id, "cancelled", version="cancel", reason=data.reason)
        return shift

    async def cancel_occurrence(
        self, shift_id: UUID, day: date, data: ShiftCancel, *, actor: CurrentUser, origin: Origin
    ) -> tuple[ShiftSkip, Shift, str]:
        """Call off the occurrence of a weekly shift starting on local date ``day``; its person is told.
        Returns the stored skip, the shift and its workplace's time zone.

        Raises:
            AppError: ``not_found`` (404), and the errors of :func:`api.shifts.skips.skip_occurrence`.
        """
        shift = await self.get_for_update(shift_id)
        zone = (await self.timezones([shift]))[shift.workplace_id]
        skip = await skip_occurrence(self.session, shift, ZoneInfo(zone), day, data.reason, actor=actor, origin=origin)
        return skip, shift, zone

    async def skipped(self, shifts: Sequence[Shift]) -> dict[UUID, set[date]]:
        """The local dates called off of each weekly shift of ``shifts``, by shift id."""
        return await skipped_days(self.session, [shift.id for shift in shifts if shift.kind == "weekly"])

    async def delete_shift(self, shift_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Remove a planned shift and tell its person (``not_found`` (404) for one not in the tenant)."""
        shift = await self.get_for_update(shift_id)
        await self.delete(shift.id)
        self._audit(actor, origin, "shift.delete", shift, {"kind": shift.kind})
        if shift.cancelled_at is None:
            await tell(self.session, shift, shift.user_id, "removed", version="delete")

    async def _require_fits(self, shift: Shift, lock_users: list[UUID], *, ignore: UUID | None = None) -> None:
        """Check an unsaved shift against its person's assignment and their other live shifts, holding the
        shift locks of ``lock_users`` (in that order) until the transaction ends."""
        # Locked first: an assignment ending at the same time (which releases the person's shifts under the same
        # lock) is then either seen ended here, or sees this shift once it is committed.
        for user_id in lock_users:
            await lock_person(self.session, user_id)
        await require_row(self.session, User, shift.user_id, "user_id", status="active")
        workplace: Workplace = await require_row(self.session, Workplace, shift.workplace_id, "workplace_id")
        assigned = await self.session.scalar(
            select(WorkplaceAssignment.id).where(
                WorkplaceAssignment.workplace_id == workplace.id,
                WorkplaceAssignment.user_id == shift.user_id,
                WorkplaceAssignment.ended_at.is_(None),
            )
        )
        if assigned is None:
            raise AppError("user_not_assigned", "This person is not assigned to the workplace.", status_code=422)
        theirs = select(Shift, Workplace.timezone).join(Workplace, Workplace.id == Shift.workplace_id)
        theirs = theirs.where(Shift.user_id == shift.user_id, Shift.cancelled_at.is_(None))
        if ignore is not None:
            theirs = theirs.where(Shift.id != ignore)
        rows = (await self.session.execute(theirs)).tuples().all()
        skips = await skipped_days(self.session, [other.id for other, _ in rows if other.kind == "weekly"])
        others = [(other, ZoneInfo(zone)) for other, zone in rows]
        clash = first_overlap(shift, ZoneInfo(workplace.timezone), others, skips)
        if clash is not None:
            other, span = clash
            raise AppError(
                "shift_overlap",
                "This shift overlaps another shift of the same person.",
                status_code=409,
                details={
                    "shift_id": str(other.id),
                    "starts_at": span.starts_at.isoformat(),
                    "ends_at": span.ends_at.isoformat(),
                },
            )

    @staticmethod
    def _shape(data: ShiftCreate, actor: CurrentUser) -> Shift:
        """The unsaved shift for ``data``, with its times checked."""
        one_off = data.starts_at is not None and data.ends_at is not None
        if one_off == (data.recurrence is not None) or (data.starts_at is None) != (data.ends_at is None):
            raise AppError(
                "invalid_shift",
                "Give either starts_at and ends_at (one-off), or recurrence (weekly).",
                status_code=422,
            )
        common: dict[str, Any] = {
            "tenant_id": actor.tenant_id,
            "user_id": data.user_id,
            "workplace_id": data.workplace_id,
            "note": data.note,
            "created_by": actor.id,
        }
        if data.recurrence is None:
            assert data.starts_at is not None
            assert data.ends_at is not None
            starts, ends = check_range(
                data.starts_at,
                data.ends_at,
                names=("starts_at", "ends_at"),
                longest=timedelta(minutes=MAX_SHIFT_MINUTES),
            )
            return Shift(kind="one_off", starts_at=starts, ends_at=ends, weekdays=[], **common)
        rule = data.recurrence
        if rule.until_date is not None and rule.until_date < rule.from_date:
            raise AppError(
                "invalid_range",
                "until_date must not be before from_date.",
                status_code=422,
                details={"fields": ["from_date", "until_date"]},
            )
        hours, minutes = (int(part) for part in rule.start_time.split(":"))
        return Shift(
            kind="weekly",
            weekdays=sorted(set(rule.weekdays), key=WEEKDAYS.index),
            start_time=time(hours, minutes),
            duration_minutes=rule.duration_minutes,
            from_date=rule.from_date,
            until_date=rule.until_date,
            **common,
        )

    def _audit(self, actor: CurrentUser, origin: Origin, action: str, shift: Shift, details: dict[str, Any]) -> None:
        audit_shift(self.session, actor, origin, action, shift, details)


SHAPE_FIELDS = (
    "user_id",
    "workplace_id",
    "kind",
    "starts_at",
    "ends_at",
    "weekdays",
    "start_time",
    "duration_minutes",
    "from_date",
    "until_date",
    "note",
)
"""What an update may change on a shift."""


def shift_facts(shift: Shift) -> dict[str, Any]:
    """The changeable fields of a shift as JSON values, for the audit record's before and after."""
    facts = {name: getattr(shift, name) for name in SHAPE_FIELDS}
    return {
        name: value if isinstance(value, (str, int, list)) or value is None else str(value)
        for name, value in facts.items()
    }


def _merged(shift: Shift, data: ShiftUpdate) -> ShiftCreate:
    """The shift as a creation body with the update's fields laid over it; new times replace the old shape."""
    sent = changes(data)
    retimed = bool({"starts_at", "ends_at", "recurrence"} & sent.keys())
    body: dict[str, Any] = {"user_id": shift.user_id, "workplace_id": shift.workplace_id, "note": shift.note}
    if not retimed and shift.kind == "one_off":
        body |= {"starts_at": shift.starts_at, "ends_at": shift.ends_at}
    elif not retimed:
        assert shift.start_time is not None
        assert shift.duration_minutes is not None
        assert shift.from_date is not None
        body["recurrence"] = Recurrence(
            weekdays=cast("list[Weekday]", list(shift.weekdays)),
            start_time=shift.start_time.strftime("%H:%M"),
            duration_minutes=shift.duration_minutes,
            from_date=shift.from_date,
            until_date=shift.until_date,
        )
    return ShiftCreate(**(body | sent))
