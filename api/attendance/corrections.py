"""Supervisors' corrections of attendance entries: new clock-in or clock-out times with a required reason,
audited with the values before and after, told to the person, and followed by their overtime."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, or_, select, update

from api.attendance.services import CLOCK_SKEW, lock_person
from api.audit import Origin, record
from api.errors import AppError
from api.overtime.compute import recompute_overtime
from api.workplaces.base import FieldService, require_aware, require_not_future, utc_now
from delivery.notify import Recipients, notify
from persistence.models import AttendanceBreak, AttendanceRecord

if TYPE_CHECKING:
    from uuid import UUID

    from api.attendance.schemas import Correction
    from api.auth.principal import CurrentUser


class CorrectionService(FieldService[AttendanceRecord]):
    """Correcting anyone's attendance entries."""

    class Repo(SQLAlchemyAsyncRepository[AttendanceRecord]):
        model_type = AttendanceRecord

    repository_type = Repo

    async def correct(
        self, attendance_id: UUID, data: Correction, *, actor: CurrentUser, origin: Origin
    ) -> AttendanceRecord:
        """Set new times on an entry; an open one may be closed this way.

        Raises:
            AppError: ``not_found`` (404); ``nothing_to_correct`` (422) without a time; ``naive_datetime`` /
                ``in_future`` (422); ``invalid_range`` (422) for a clock-out not after the clock-in;
                ``overlapping_attendance`` (409) with another entry of the person; ``breaks_outside`` (409)
                when one of the entry's breaks would fall outside it.
        """
        if data.clock_in_at is None and data.clock_out_at is None:
            raise AppError("nothing_to_correct", "Give clock_in_at, clock_out_at or both.", status_code=422)
        entry = await self.get_for_update(attendance_id)
        await lock_person(self.session, entry.user_id)
        before = (entry.clock_in_at, entry.clock_out_at)
        clock_in, clock_out = self._times(data, entry)
        if clock_out is not None and clock_out <= clock_in:
            raise AppError(
                "invalid_range",
                "clock_out_at must be after clock_in_at.",
                status_code=422,
                details={"fields": ["clock_in_at", "clock_out_at"]},
            )
        await self._require_no_overlap(entry, clock_in, clock_out)
        await self._require_breaks_inside(entry, clock_in, clock_out)
        if before[1] is None and clock_out is not None:
            # Closing an entry someone forgot to clock out of ends its open break with it.
            await self.session.execute(
                update(AttendanceBreak)
                .where(AttendanceBreak.attendance_id == entry.id, AttendanceBreak.ended_at.is_(None))
                .values(ended_at=clock_out)
            )
        entry.clock_in_at, entry.clock_out_at = clock_in, clock_out
        if data.clock_out_at is not None and entry.clock_out_received_at is None:
            entry.clock_out_received_at = utc_now()
        entry = await self.update(entry)
        changes = {
            "reason": data.reason,
            "before": {"clock_in_at": _iso(before[0]), "clock_out_at": _iso(before[1])},
            "after": {"clock_in_at": _iso(clock_in), "clock_out_at": _iso(clock_out)},
        }
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="attendance.correct",
            actor_user_id=actor.id,
            origin=origin,
            target_type="attendance",
            target_id=entry.id,
            details={"user_id": str(entry.user_id), **changes},
        )
        if entry.user_id != actor.id:
            await notify(
                self.session,
                tenant_id=actor.tenant_id,
                recipients=Recipients(users=[entry.user_id]),
                category="shift",
                title="Your attendance was corrected",
                body=f"Reason: {data.reason}",
                link="/attendance",
                data={"attendance_id": str(entry.id), **changes},
                idempotency_key=f"attendance-correct:{entry.id}:{entry.updated_at.isoformat()}",
            )
        spans = [(before[0], before[1] or utc_now()), (clock_in, clock_out or utc_now())]
        await recompute_overtime(self.session, tenant_id=actor.tenant_id, user_id=entry.user_id, spans=spans)
        return entry

    @staticmethod
    def _times(data: Correction, entry: AttendanceRecord) -> tuple[datetime, datetime | None]:
        times: list[datetime | None] = []
        for field, sent, kept in (
            ("clock_in_at", data.clock_in_at, entry.clock_in_at),
            ("clock_out_at", data.clock_out_at, entry.clock_out_at),
        ):
            if sent is None:
                times.append(kept)
                continue
            value = require_aware(sent, field)
            require_not_future(value, field, skew=CLOCK_SKEW)
            times.append(value)
        clock_in, clock_out = times
        assert clock_in is not None
        return clock_in, clock_out

    async def _require_no_overlap(
        self, entry: AttendanceRecord, clock_in: datetime, clock_out: datetime | None
    ) -> None:
        conditions = [
            AttendanceRecord.user_id == entry.user_id,
            AttendanceRecord.id != entry.id,
            or_(AttendanceRecord.clock_out_at.is_(None), AttendanceRecord.clock_out_at > clock_in),
        ]
        if clock_out is not None:
            conditions.append(AttendanceRecord.clock_in_at < clock_out)
        other = await self.session.scalar(select(AttendanceRecord.id).where(*conditions).limit(1))
        if other is not None:
            raise AppError(
                "overlapping_attendance",
                "The corrected times overlap another attendance of this person.",
                status_code=409,
                details={"attendance_id": str(other)},
            )

    async def _require_breaks_inside(
        self, entry: AttendanceRecord, clock_in: datetime, clock_out: datetime | None
    ) -> None:
        first, last = (
            await self.session.execute(
                select(
                    func.min(AttendanceBreak.started_at),
                    func.max(func.coalesce(AttendanceBreak.ended_at, AttendanceBreak.started_at)),
                ).where(AttendanceBreak.attendance_id == entry.id)
            )
        ).one()
        if first is not None and (first < clock_in or (clock_out is not None and last > clock_out)):
            raise AppError(
                "breaks_outside",
                "A break of this attendance would fall outside the corrected times.",
                status_code=409,
                details={"first_break_at": first.isoformat(), "last_break_end_at": last.isoformat()},
            )


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
