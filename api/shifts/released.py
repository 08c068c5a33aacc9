"""Shifts released when someone stops working at a workplace.

As in Deputy or When I Work, a shift belongs to someone assigned where it takes place: when an assignment ends,
the person's shifts there that would start after the end go. A one-off shift starting later is cancelled (it
keeps its row and history); a weekly shift with occurrences on both sides of the end is cut to end on the local
date of its last occurrence started before it, and one with no occurrence before the end is cancelled. Shifts
already under way, shifts elsewhere and other people's shifts stay as they are. Everything happens in the
transaction that ends the assignment: each change audited, the person told of each shift, and the workplace's
supervisors told once which shifts are left to cover.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import select

from api.shifts.audit import audit_shift
from api.shifts.notices import Change, tell, tell_supervisors_released
from api.shifts.recurrence import occurrences, outer_span
from api.shifts.services import lock_person, shift_facts
from api.workplaces.audience import workplace_supervisors
from persistence.models import Shift

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from persistence.models import Workplace, WorkplaceAssignment

REASON = "No longer assigned to the workplace."
Fate = Literal["keep", "cancel"] | date
WEEK = timedelta(days=8)
"""A weekly shift occurs at least once in any 8 days between its first and last dates."""


class Released(msgspec.Struct, frozen=True):
    """What ending an assignment did to the person's shifts at the workplace, by shift id."""

    cancelled: list[UUID]
    shortened: list[UUID]


def fate(shift: Shift, zone: ZoneInfo, ended_at: datetime) -> Fate:
    """What becomes of ``shift`` when its person leaves at ``ended_at``: ``keep`` it (nothing of it starts after
    ``ended_at``), ``cancel`` it (nothing of it started before), or a date to end a weekly shift on (its new
    ``until_date``: the local date of its last occurrence started before ``ended_at``)."""
    if shift.kind == "one_off":
        assert shift.starts_at is not None
        return "cancel" if shift.starts_at >= ended_at else "keep"
    if outer_span(shift, zone)[0] >= ended_at:
        return "cancel"
    # It began before the end: if it occurs after, it does within a week (or its until_date came first).
    later = [span for span in occurrences(shift, zone, ended_at, ended_at + WEEK) if span.starts_at >= ended_at]
    if not later:
        return "keep"
    earlier = [span for span in occurrences(shift, zone, ended_at - WEEK, ended_at) if span.starts_at < ended_at]
    if not earlier:
        return "cancel"
    return earlier[-1].starts_at.astimezone(zone).date()


async def release_shifts(
    session: AsyncSession,
    assignment: WorkplaceAssignment,
    workplace: Workplace,
    *,
    actor: CurrentUser,
    origin: Origin,
) -> Released:
    """Cancel or cut the ended ``assignment``'s person's live shifts at ``workplace`` that start after it ended.

    Call in the transaction that ends the assignment, after ``ended_at`` is set.
    """
    assert assignment.ended_at is not None
    ended_at, user_id = assignment.ended_at, assignment.user_id
    await lock_person(session, user_id)
    shifts = await session.scalars(
        select(Shift)
        .where(Shift.user_id == user_id, Shift.workplace_id == workplace.id, Shift.cancelled_at.is_(None))
        .order_by(Shift.id)
        .with_for_update()
    )
    zone = ZoneInfo(workplace.timezone)
    cancelled: list[UUID] = []
    shortened: list[UUID] = []
    for shift in shifts.all():
        outcome = fate(shift, zone, ended_at)
        if outcome == "keep":
            continue
        details: dict[str, Any] = {"reason": REASON, "assignment_id": str(assignment.id)}
        change: Change
        if outcome == "cancel":
            shift.cancelled_at, shift.cancelled_by, shift.cancel_reason = ended_at, actor.id, REASON
            action, change = "shift.cancel", "cancelled"
            cancelled.append(shift.id)
        else:
            assert isinstance(outcome, date)
            details["before"] = shift_facts(shift)
            shift.until_date = outcome
            details["after"] = shift_facts(shift)
            action, change = "shift.update", "changed"
            shortened.append(shift.id)
        audit_shift(session, actor, origin, action, shift, details)
        await tell(session, shift, user_id, change, version=f"released:{assignment.id}", reason=REASON)
    await session.flush()
    supervisors = sorted(set(await workplace_supervisors(session, workplace.id)) - {user_id}, key=str)
    await tell_supervisors_released(
        session,
        tenant_id=workplace.tenant_id,
        workplace_id=workplace.id,
        user_id=user_id,
        supervisors=supervisors,
        cancelled=cancelled,
        shortened=shortened,
        key=str(assignment.id),
    )
    return Released(cancelled=cancelled, shortened=shortened)
