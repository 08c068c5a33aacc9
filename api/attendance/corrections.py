"""Corrections of attendance entries: new clock-in or clock-out times with a required reason, audited with the
values before and after, told to the person, and followed by their overtime.

Holders of ``attendance:correct`` (supervisors, admins) correct other people's entries directly; nobody corrects
their own that way. Everyone else asks for a correction of their own entry, which waits for approval
(:mod:`api.attendance.correction_requests`) and goes through :func:`apply_correction` once approved.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

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

    from sqlalchemy.ext.asyncio import AsyncSession

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
        """Set new times on someone else's entry; an open one may be closed this way.

        Raises:
            AppError: ``not_found`` (404); ``own_entry`` (403) for the caller's own entry (they ask for a
                correction instead); ``nothing_to_correct`` (422) without a time; ``naive_datetime`` /
                ``in_future`` (422); ``invalid_range`` (422) for a clock-out not after the clock-in;
                ``overlapping_attendance`` (409) with another entry of the person; ``breaks_outside`` (409)
                when one of the entry's breaks would fall outside it.
        """
        require_times(data.clock_in_at, data.clock_out_at)
        entry = await self.get_for_update(attendance_id)
        if entry.user_id == actor.id:
            raise AppError(
                "own_entry",
                "Nobody corrects their own attendance directly; ask for a correction, which goes to approval.",
                status_code=403,
                details={"use": f"/api/v1/attendance/{entry.id}/correction-requests"},
            )
        return await apply_correction(
            self.session,
            entry,
            clock_in_at=data.clock_in_at,
            clock_out_at=data.clock_out_at,
            reason=data.reason,
            actor_id=actor.id,
            origin=origin,
        )


def require_times(clock_in_at: datetime | None, clock_out_at: datetime | None) -> None:
    """``nothing_to_correct`` (422) unless at least one time is given."""
    if clock_in_at is None and clock_out_at is None:
        raise AppError("nothing_to_correct", "Give clock_in_at, clock_out_at or both.", status_code=422)


async def corrected_times(
    session: AsyncSession, entry: AttendanceRecord, clock_in_at: datetime | None, clock_out_at: datetime | None
) -> tuple[datetime, datetime | None]:
    """The entry's times once corrected (a time not given is kept), checked against its person's other entries
    and its breaks; the caller holds :func:`api.attendance.services.lock_person` of the entry's person.

    Raises:
        AppError: ``naive_datetime`` / ``in_future`` / ``invalid_range`` (422); ``overlapping_attendance`` /
            ``breaks_outside`` (409).
    """
    clock_in, clock_out = _times(clock_in_at, clock_out_at, entry)
    if clock_out is not None and clock_out <= clock_in:
        raise AppError(
            "invalid_range",
            "clock_out_at must be after clock_in_at.",
            status_code=422,
            details={"fields": ["clock_in_at", "clock_out_at"]},
        )
    await _require_no_overlap(session, entry, clock_in, clock_out)
    await _require_breaks_inside(session, entry, clock_in, clock_out)
    return clock_in, clock_out


async def apply_correction(
    session: AsyncSession,
    entry: AttendanceRecord,
    *,
    clock_in_at: datetime | None,
    clock_out_at: datetime | None,
    reason: str,
    actor_id: UUID | None,
    origin: Origin,
    details: dict[str, Any] | None = None,
) -> AttendanceRecord:
    """Give locked ``entry`` its corrected times in the caller's transaction: audited (``attendance.correct``,
    by ``actor_id``, with ``details`` added), the person told unless they are the actor, their overtime recomputed.

    Raises:
        AppError: as :func:`corrected_times`.
    """
    await lock_person(session, entry.user_id)
    before = (entry.clock_in_at, entry.clock_out_at)
    clock_in, clock_out = await corrected_times(session, entry, clock_in_at, clock_out_at)
    if before[1] is None and clock_out is not None:
        # Closing an entry someone forgot to clock out of ends its open break with it.
        await session.execute(
            update(AttendanceBreak)
            .where(AttendanceBreak.attendance_id == entry.id, AttendanceBreak.ended_at.is_(None))
            .values(ended_at=clock_out)
        )
    entry.clock_in_at, entry.clock_out_at = clock_in, clock_out
    if clock_out_at is not None and entry.clock_out_received_at is None:
        entry.clock_out_received_at = utc_now()
    await session.flush()
    await session.refresh(entry, attribute_names=["updated_at"])
    changes = {
        "reason": reason,
        "before": {"clock_in_at": _iso(before[0]), "clock_out_at": _iso(before[1])},
        "after": {"clock_in_at": _iso(clock_in), "clock_out_at": _iso(clock_out)},
    }
    record(
        session,
        tenant_id=entry.tenant_id,
        action="attendance.correct",
        actor_user_id=actor_id,
        origin=origin,
        target_type="attendance",
        target_id=entry.id,
        details={"user_id": str(entry.user_id), **changes, **(details or {})},
    )
    if entry.user_id != actor_id:
        await notify(
            session,
            tenant_id=entry.tenant_id,
            recipients=Recipients(users=[entry.user_id]),
            category="shift",
            title="Your attendance was corrected",
            body=f"Reason: {reason}",
            link="/attendance",
            data={"attendance_id": str(entry.id), **changes},
            idempotency_key=f"attendance-correct:{entry.id}:{entry.updated_at.isoformat()}",
        )
    spans = [(before[0], before[1] or utc_now()), (clock_in, clock_out or utc_now())]
    await recompute_overtime(session, tenant_id=entry.tenant_id, user_id=entry.user_id, spans=spans)
    return entry


def _times(
    clock_in_at: datetime | None, clock_out_at: datetime | None, entry: AttendanceRecord
) -> tuple[datetime, datetime | None]:
    times: list[datetime | None] = []
    for field, sent, kept in (
        ("clock_in_at", clock_in_at, entry.clock_in_at),
        ("clock_out_at", clock_out_at, entry.clock_out_at),
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
    session: AsyncSession, entry: AttendanceRecord, clock_in: datetime, clock_out: datetime | None
) -> None:
    conditions = [
        AttendanceRecord.user_id == entry.user_id,
        AttendanceRecord.id != entry.id,
        or_(AttendanceRecord.clock_out_at.is_(None), AttendanceRecord.clock_out_at > clock_in),
    ]
    if clock_out is not None:
        conditions.append(AttendanceRecord.clock_in_at < clock_out)
    other = await session.scalar(select(AttendanceRecord.id).where(*conditions).limit(1))
    if other is not None:
        raise AppError(
            "overlapping_attendance",
            "The corrected times overlap another attendance of this person.",
            status_code=409,
            details={"attendance_id": str(other)},
        )


async def _require_breaks_inside(
    session: AsyncSession, entry: AttendanceRecord, clock_in: datetime, clock_out: datetime | None
) -> None:
    first, last = (
        await session.execute(
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
