"""Attendance rules: clock in only at a workplace one is assigned to and from inside its geofence (or outside,
flagged, when the tenant's policy says so), one open attendance per person and one open break per attendance,
offline times within a window and in order, and days cut in the workplace's time zone. A clock-out updates
the person's overtime.

Every write is audited in the same transaction. A person's clock-ins and clock-outs are serialised by a
transaction-scoped advisory lock, so two devices sending at once cannot both pass the checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import String, bindparam, func, select, true, update

from api.attendance.policy import DEFAULTS, remember_policy
from api.attendance.schemas import DayEntry, WorkplaceDay, worked_seconds
from api.audit import Origin, record
from api.errors import AppError
from api.overtime.compute import recompute_overtime
from api.workplaces.base import FieldService, require_aware, require_not_future, require_row, utc_now
from api.workplaces.geo import distance_m
from persistence.models import AttendanceBreak, AttendanceRecord, Workplace, WorkplaceAssignment, WorkPolicy
from persistence.prepared import Prepared

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.attendance.schemas import BreakEvent, ClockIn, ClockOut
    from api.auth.principal import CurrentUser

CLOCK_SKEW = timedelta(minutes=2)
"""How far ahead of the server a device's clock may run."""
OFFLINE_WINDOW = timedelta(hours=72)
"""How old an offline clock-in or clock-out may be when it reaches the server."""


async def lock_person(session: AsyncSession, user_id: UUID) -> None:
    """Serialise changes to one person's attendance until the transaction ends."""
    await _LOCK.scalar(session, lock_key=_person_key(user_id))


def _person_key(user_id: UUID) -> str:
    return f"attendance:{user_id}"


_PERSON_LOCK = func.pg_advisory_xact_lock(func.hashtextextended(bindparam("lock_key", type_=String), 0))
"""The advisory lock on ``:lock_key`` (:func:`_person_key`), as a column to select alone or with a read that
does not need it."""
_LOCK = Prepared(select(_PERSON_LOCK))


class Geofenced(Protocol):
    """A workplace's position and geofence: a ``Workplace`` or a row with these columns."""

    @property
    def latitude(self) -> float: ...
    @property
    def longitude(self) -> float: ...
    @property
    def geofence_radius_m(self) -> int: ...


_WORKPLACE = cast("Table", Workplace.__table__)
_ASSIGNMENT = cast("Table", WorkplaceAssignment.__table__)
_POLICY = cast("Table", WorkPolicy.__table__)
_RECORD = cast("Table", AttendanceRecord.__table__)
_BREAK = cast("Table", AttendanceBreak.__table__)

# Built once: putting a statement together costs about as much Python as sending it.
_CLOCK_IN_WORKPLACE = Prepared(
    select(
        _PERSON_LOCK.label("locked"),
        _WORKPLACE.c.id,
        _WORKPLACE.c.status,
        _WORKPLACE.c.latitude,
        _WORKPLACE.c.longitude,
        _WORKPLACE.c.geofence_radius_m,
        select(_ASSIGNMENT.c.id)
        .where(
            _ASSIGNMENT.c.workplace_id == _WORKPLACE.c.id,
            _ASSIGNMENT.c.user_id == bindparam("user_id"),
            _ASSIGNMENT.c.ended_at.is_(None),
        )
        .exists()
        .label("assigned"),
        select(_POLICY.c.geofence).scalar_subquery().label("geofence"),
    ).where(_WORKPLACE.c.id == bindparam("workplace_id"))
)
"""Takes ``:user_id``'s lock (``:lock_key``) and reads ``:workplace_id``, whether they are assigned there, and
the tenant's geofence policy (none without a saved policy)."""
_OPEN_RECORD = select(_RECORD.c.id, _RECORD.c.workplace_id).where(
    _RECORD.c.user_id == bindparam("user_id"), _RECORD.c.clock_out_at.is_(None)
)
_CLOCK_IN_STATE = Prepared(
    select(
        _OPEN_RECORD.with_only_columns(_RECORD.c.id).scalar_subquery().label("open_id"),
        _OPEN_RECORD.with_only_columns(_RECORD.c.workplace_id).scalar_subquery().label("open_workplace_id"),
        select(_RECORD.c.clock_out_at)
        .where(_RECORD.c.user_id == bindparam("user_id"))
        .order_by(_RECORD.c.clock_out_at.desc().nulls_last())
        .limit(1)
        .scalar_subquery()
        .label("last_out"),
    )
)
"""``:user_id``'s open attendance and last clock-out."""
_OPEN_BREAK = (
    select(_BREAK.c.id, _BREAK.c.started_at)
    .where(_BREAK.c.attendance_id == AttendanceRecord.id, _BREAK.c.ended_at.is_(None))
    .limit(1)
)
_CLOCK_OUT_STATE = (
    select(
        AttendanceRecord,
        WorkPolicy,
        Workplace.latitude,
        Workplace.longitude,
        Workplace.geofence_radius_m,
        _OPEN_BREAK.with_only_columns(_BREAK.c.id).scalar_subquery().label("break_id"),
        _OPEN_BREAK.with_only_columns(_BREAK.c.started_at).scalar_subquery().label("break_started_at"),
    )
    .join(Workplace, Workplace.id == AttendanceRecord.workplace_id)
    .outerjoin(WorkPolicy, true())
    .where(AttendanceRecord.user_id == bindparam("user_id"), AttendanceRecord.clock_out_at.is_(None))
)
"""``:user_id``'s open attendance (an ORM row, so the board hears of its clock-out), the tenant's policy,
the workplace's geofence and the open break."""


class AttendanceService(FieldService[AttendanceRecord]):
    """Clocking in and out, one's own attendance, and a workplace's day."""

    class Repo(SQLAlchemyAsyncRepository[AttendanceRecord]):
        model_type = AttendanceRecord

    repository_type = Repo

    async def clock_in(self, data: ClockIn, *, actor: CurrentUser, origin: Origin) -> AttendanceRecord:
        """Open an attendance at ``data.workplace_id``.

        Four statements: the workplace, whether one is assigned there and the tenant's geofence policy in one
        read that also takes the person's lock; then one's open attendance and last clock-out (read after the
        lock); the insert; and the audit entry.

        Raises:
            AppError: ``not_found`` (404) for a workplace not in the tenant; ``workplace_inactive`` (409);
                ``not_assigned`` (403); ``naive_datetime`` / ``in_future`` / ``too_old`` (422) for a bad
                ``occurred_at``; ``outside_geofence`` (422, with the distance) unless the tenant's policy flags
                instead; ``already_clocked_in`` (409);
                ``out_of_order`` (409) for an offline clock-in before one's last clock-out.
        """
        workplace = await _CLOCK_IN_WORKPLACE.first(
            self.session, lock_key=_person_key(actor.id), workplace_id=data.workplace_id, user_id=actor.id
        )
        if workplace is None:
            raise AppError(
                "not_found", "No workplace with this id.", status_code=404, details={"field": "workplace_id"}
            )
        if workplace.status != "active":
            raise AppError("workplace_inactive", "This workplace is not active.", status_code=409)
        if not workplace.assigned:
            raise AppError("not_assigned", "You are not assigned to this workplace.", status_code=403)
        received = utc_now()
        occurred = self._device_time(data.occurred_at, received)
        geofence = workplace.geofence or DEFAULTS["geofence"]
        distance, flagged = self._check_geofence(workplace, data.latitude, data.longitude, geofence)
        state = await _CLOCK_IN_STATE.first(self.session, user_id=actor.id)
        if state is None:
            raise RuntimeError("a select without FROM answered no row")
        if state.open_id is not None:
            raise AppError(
                "already_clocked_in",
                "You are clocked in already; clock out first.",
                status_code=409,
                details={"attendance_id": str(state.open_id), "workplace_id": str(state.open_workplace_id)},
            )
        last_out_at: datetime | None = state.last_out
        if last_out_at is not None and occurred < last_out_at:
            raise AppError(
                "out_of_order",
                "This clock-in is earlier than your last clock-out.",
                status_code=409,
                details={"last_clock_out_at": last_out_at.isoformat()},
            )
        attendance = AttendanceRecord(
            tenant_id=actor.tenant_id,
            user_id=actor.id,
            workplace_id=workplace.id,
            clock_in_at=occurred,
            clock_in_received_at=received,
            clock_in_offline=data.occurred_at is not None,
            clock_in_latitude=data.latitude,
            clock_in_longitude=data.longitude,
            clock_in_accuracy_m=data.accuracy_m,
            clock_in_distance_m=distance,
            clock_in_flagged=flagged,
            clock_out_offline=False,
            clock_out_flagged=False,
        )
        # A plain flush, not the repository's add: its refresh would read the row straight back.
        self.session.add(attendance)
        await self.session.flush()
        self._audit(
            actor,
            origin,
            "attendance.clock_in",
            attendance,
            {"offline": attendance.clock_in_offline, "flagged": flagged},
        )
        return attendance

    async def clock_out(self, data: ClockOut, *, actor: CurrentUser, origin: Origin) -> AttendanceRecord:
        """Close one's open attendance.

        After the person's lock, one read of the open attendance with its workplace's position, its open
        break and the tenant's policy (kept for the overtime that follows), then the update.

        Raises:
            AppError: ``not_clocked_in`` (409); ``out_of_order`` (409) for a time before the clock-in;
                ``outside_geofence`` (422); and the ``occurred_at`` errors of :meth:`clock_in`.
        """
        received = utc_now()
        occurred = self._device_time(data.occurred_at, received)
        await self._lock_person(actor.id)
        found = (await self.session.execute(_CLOCK_OUT_STATE, {"user_id": actor.id})).first()
        if found is None:
            raise AppError("not_clocked_in", "You are not clocked in.", status_code=409)
        attendance: AttendanceRecord = found.AttendanceRecord
        if occurred < attendance.clock_in_at:
            raise AppError(
                "out_of_order",
                "This clock-out is earlier than its clock-in.",
                status_code=409,
                details={"clock_in_at": attendance.clock_in_at.isoformat()},
            )
        policy = remember_policy(self.session, found.WorkPolicy)
        distance, flagged = self._check_geofence(found, data.latitude, data.longitude, policy.geofence)
        if found.break_id is not None:
            # Clocking out ends the break too; it cannot outlast the stay.
            await self.session.execute(
                update(_BREAK)
                .where(_BREAK.c.id == found.break_id)
                .values(ended_at=max(occurred, found.break_started_at), updated_at=received)
            )
        attendance.clock_out_at = occurred
        attendance.clock_out_received_at = received
        attendance.clock_out_offline = data.occurred_at is not None
        attendance.clock_out_latitude = data.latitude
        attendance.clock_out_longitude = data.longitude
        attendance.clock_out_accuracy_m = data.accuracy_m
        attendance.clock_out_distance_m = distance
        attendance.clock_out_flagged = flagged
        # A plain flush, not the repository's update: its merge and refresh would read the row back twice.
        await self.session.flush()
        self._audit(
            actor,
            origin,
            "attendance.clock_out",
            attendance,
            {"offline": attendance.clock_out_offline, "flagged": flagged},
        )
        await recompute_overtime(
            self.session, tenant_id=actor.tenant_id, user_id=actor.id, spans=[(attendance.clock_in_at, occurred)]
        )
        return attendance

    async def start_break(self, data: BreakEvent, *, actor: CurrentUser, origin: Origin) -> AttendanceBreak:
        """Start a break of one's open attendance.

        Raises:
            AppError: ``not_clocked_in`` (409); ``already_on_break`` (409); ``out_of_order`` (409) for a time
                before the clock-in or the last break's end; and the ``occurred_at`` errors of :meth:`clock_in`.
        """
        occurred = self._device_time(data.occurred_at, utc_now())
        await self._lock_person(actor.id)
        attendance = await self._open_record(actor.id)
        if attendance is None:
            raise AppError("not_clocked_in", "You are not clocked in.", status_code=409)
        if await self._open_break(attendance.id) is not None:
            raise AppError("already_on_break", "You are on a break already; end it first.", status_code=409)
        last_end = await self.session.scalar(
            select(func.max(AttendanceBreak.ended_at)).where(AttendanceBreak.attendance_id == attendance.id)
        )
        earliest = max(attendance.clock_in_at, last_end or attendance.clock_in_at)
        if occurred < earliest:
            raise AppError(
                "out_of_order",
                "This break starts before the clock-in or the end of the last break.",
                status_code=409,
                details={"earliest": earliest.isoformat()},
            )
        pause = AttendanceBreak(
            tenant_id=actor.tenant_id, attendance_id=attendance.id, user_id=actor.id, started_at=occurred
        )
        self.session.add(pause)
        await self.session.flush()
        self._audit(actor, origin, "attendance.break_start", attendance, {"break_id": str(pause.id)})
        return pause

    async def end_break(self, data: BreakEvent, *, actor: CurrentUser, origin: Origin) -> AttendanceBreak:
        """End one's current break (``409 not_on_break``, ``409 out_of_order`` before its start)."""
        occurred = self._device_time(data.occurred_at, utc_now())
        await self._lock_person(actor.id)
        attendance = await self._open_record(actor.id)
        pause = None if attendance is None else await self._open_break(attendance.id)
        if attendance is None or pause is None:
            raise AppError("not_on_break", "You are not on a break.", status_code=409)
        if occurred < pause.started_at:
            raise AppError(
                "out_of_order",
                "This break ends before it started.",
                status_code=409,
                details={"started_at": pause.started_at.isoformat()},
            )
        pause.ended_at = occurred
        await self.session.flush()
        self._audit(actor, origin, "attendance.break_end", attendance, {"break_id": str(pause.id)})
        return pause

    async def mine(
        self, user_id: UUID, *, limit: int, offset: int, since: datetime | None = None
    ) -> tuple[Sequence[AttendanceRecord], int]:
        """One page of a person's attendance, latest clock-in first."""
        filters: list[Any] = [AttendanceRecord.user_id == user_id]
        if since is not None:
            filters.append(AttendanceRecord.clock_in_at >= require_aware(since, "since"))
        order = [OrderBy("clock_in_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def workplace_day(self, workplace_id: UUID, day: date) -> WorkplaceDay:
        """Attendance clocked in at a workplace during one calendar day of its own time zone.

        The day runs from local midnight to the next local midnight, so it lasts 23 or 25 hours
        on the days clocks change.
        """
        workplace = await require_row(self.session, Workplace, workplace_id, "workplace_id")
        zone = ZoneInfo(workplace.timezone)
        starts = datetime.combine(day, time(0), zone)
        ends = datetime.combine(day + timedelta(days=1), time(0), zone)
        rows = await self.session.scalars(
            select(AttendanceRecord)
            .where(
                AttendanceRecord.workplace_id == workplace.id,
                AttendanceRecord.clock_in_at >= starts,
                AttendanceRecord.clock_in_at < ends,
            )
            .order_by(AttendanceRecord.clock_in_at, AttendanceRecord.id)
        )
        entries = [
            DayEntry(
                id=r.id,
                user_id=r.user_id,
                clock_in_at=r.clock_in_at,
                clock_in_local=r.clock_in_at.astimezone(zone).isoformat(),
                clock_in_offline=r.clock_in_offline,
                clock_out_at=r.clock_out_at,
                clock_out_local=r.clock_out_at.astimezone(zone).isoformat() if r.clock_out_at else None,
                worked_seconds=worked_seconds(r),
            )
            for r in rows
        ]
        # Aware datetimes in one zone subtract as wall-clock times; UTC gives the real duration.
        length = ends.astimezone(ZoneInfo("UTC")) - starts.astimezone(ZoneInfo("UTC"))
        return WorkplaceDay(
            workplace_id=workplace.id,
            date=day,
            timezone=workplace.timezone,
            starts_at=starts,
            ends_at=ends,
            hours=length.total_seconds() / 3600,
            entries=entries,
        )

    # -- checks --------------------------------------------------------------------------------

    async def _require_assigned(self, workplace_id: UUID, user_id: UUID) -> None:
        assigned = await self.session.scalar(
            select(WorkplaceAssignment.id).where(
                WorkplaceAssignment.workplace_id == workplace_id,
                WorkplaceAssignment.user_id == user_id,
                WorkplaceAssignment.ended_at.is_(None),
            )
        )
        if assigned is None:
            raise AppError("not_assigned", "You are not assigned to this workplace.", status_code=403)

    @staticmethod
    def _device_time(occurred_at: datetime | None, received: datetime) -> datetime:
        """The instant the device reports, checked against the offline window; ``received`` when absent."""
        if occurred_at is None:
            return received
        occurred = require_aware(occurred_at, "occurred_at")
        require_not_future(occurred, "occurred_at", skew=CLOCK_SKEW)
        if occurred < received - OFFLINE_WINDOW:
            raise AppError(
                "too_old",
                "occurred_at is older than the offline window.",
                status_code=422,
                details={"field": "occurred_at", "window_hours": int(OFFLINE_WINDOW.total_seconds() // 3600)},
            )
        return occurred

    @staticmethod
    def _check_geofence(workplace: Geofenced, latitude: float, longitude: float, policy: str) -> tuple[float, bool]:
        """The distance to the workplace in metres, and whether it lies outside the geofence (the edge is in).

        Outside, the tenant's policy ``refuse`` raises ``outside_geofence`` (422); ``flag`` accepts it, flagged.
        """
        distance = distance_m(workplace.latitude, workplace.longitude, latitude, longitude)
        outside = distance > workplace.geofence_radius_m
        if outside and policy != "flag":
            raise AppError(
                "outside_geofence",
                f"You are {distance:.0f} m from the workplace; its geofence is {workplace.geofence_radius_m} m.",
                status_code=422,
                details={"distance_m": round(distance, 1), "radius_m": workplace.geofence_radius_m},
            )
        return distance, outside

    async def _lock_person(self, user_id: UUID) -> None:
        await lock_person(self.session, user_id)

    async def _open_record(self, user_id: UUID) -> AttendanceRecord | None:
        open_record: AttendanceRecord | None = await self.session.scalar(
            select(AttendanceRecord).where(AttendanceRecord.user_id == user_id, AttendanceRecord.clock_out_at.is_(None))
        )
        return open_record

    async def _open_break(self, attendance_id: UUID) -> AttendanceBreak | None:
        open_break: AttendanceBreak | None = await self.session.scalar(
            select(AttendanceBreak).where(
                AttendanceBreak.attendance_id == attendance_id, AttendanceBreak.ended_at.is_(None)
            )
        )
        return open_break

    def _audit(
        self, actor: CurrentUser, origin: Origin, action: str, attendance: AttendanceRecord, details: dict[str, Any]
    ) -> None:
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action=action,
            actor_user_id=actor.id,
            origin=origin,
            target_type="attendance",
            target_id=attendance.id,
            details={"workplace_id": str(attendance.workplace_id), **details},
        )
