"""Lateness and absence: a shift has started and its person has not clocked in.

``late_now`` answers who is late where (the supervisor's board asks it too). The worker runs
:data:`LATENESS_JOB` for every tenant every :data:`LATENESS_EVERY`: ``late_after_minutes`` after an
occurrence's start without a clock-in the person is told, ``escalate_after_minutes`` later the workplace's
supervisors (or, with none, the person's manager). Each step is sent once per occurrence, whatever the
number of runs or workers: its idempotency key names the shift, the occurrence's start and the step.
Every run also puts each late person on the supervisors' live board (``board.late``, minutes so far).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import or_, select

from api.attendance.policy import work_policy
from api.board.live import LateOnBoard, board_topic, queue_event
from api.holidays.calendar import workplace_holidays
from api.shifts.services import occurrences_between
from api.workplaces.audience import workplace_supervisors
from api.workplaces.base import require_aware
from delivery.notify import Recipients, notify
from persistence.models import AttendanceRecord, LeaveRequest, User, Workplace
from persistence.schedule import Periodic

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["LATENESS_JOB", "LATENESS_PERIODICS", "Late", "late_now", "lateness_job_handlers", "notify_lateness"]

LATENESS_JOB: Final = "attendance.lateness"
LATENESS_EVERY = timedelta(minutes=5)
LATENESS_PERIODICS = [Periodic(kind=LATENESS_JOB, interval=LATENESS_EVERY)]
"""The periodic jobs ``fieldhub worker`` schedules for lateness."""
LOOKBACK = timedelta(hours=12)
"""Occurrences that started longer ago than this are no longer reported."""


class Late(msgspec.Struct, frozen=True, kw_only=True):
    """A person not clocked in for an occurrence of their shift that started at least the tenant's delay ago."""

    user_id: UUID
    workplace_id: UUID
    shift_id: UUID
    starts_at: datetime
    ends_at: datetime
    minutes_late: int
    absent: bool
    """The occurrence is over and the person never clocked in."""


async def late_now(session: AsyncSession, now: datetime, *, late_after_minutes: int | None = None) -> list[Late]:
    """Who is late where at ``now`` (aware), in the session's tenant, latest start first.

    People on approved leave that local day, people who are not active, and shifts on a public holiday of
    their workplace are not late. ``late_after_minutes`` is the tenant policy's, for a caller that read it
    already (the board); it is read here when ``None``.
    """
    now = require_aware(now, "now")
    if late_after_minutes is None:
        late_after_minutes = (await work_policy(session)).late_after_minutes
    delay = timedelta(minutes=late_after_minutes)
    due = [
        (shift, zone, span)
        for shift, zone, span in await occurrences_between(session, now - LOOKBACK, now)
        if span.starts_at + delay <= now
    ]
    if not due:
        return []
    users = {shift.user_id for shift, _, _ in due}
    earliest = min(span.starts_at for _, _, span in due)
    stays = (
        (
            await session.execute(
                select(
                    AttendanceRecord.user_id,
                    AttendanceRecord.workplace_id,
                    AttendanceRecord.clock_in_at,
                    AttendanceRecord.clock_out_at,
                ).where(
                    AttendanceRecord.user_id.in_(users),
                    AttendanceRecord.clock_in_at <= now,
                    or_(AttendanceRecord.clock_out_at.is_(None), AttendanceRecord.clock_out_at > earliest),
                )
            )
        )
        .tuples()
        .all()
    )
    active = set((await session.scalars(select(User.id).where(User.id.in_(users), User.status == "active"))).all())
    leave = (
        (
            await session.execute(
                select(LeaveRequest.user_id, LeaveRequest.start_date, LeaveRequest.end_date).where(
                    LeaveRequest.user_id.in_(users), LeaveRequest.status == "approved"
                )
            )
        )
        .tuples()
        .all()
    )
    days = [span.starts_at.astimezone(ZoneInfo(zone)).date() for _, zone, span in due]
    holidays = await workplace_holidays(session, {shift.workplace_id for shift, _, _ in due}, min(days), max(days))
    late: list[Late] = []
    for (shift, _, span), day in zip(due, days, strict=True):
        if day in holidays.get(shift.workplace_id, {}):
            continue
        came = any(
            user == shift.user_id
            and place == shift.workplace_id
            and came_in < span.ends_at
            and (left is None or left > span.starts_at)
            for user, place, came_in, left in stays
        )
        away = any(user == shift.user_id and first <= day <= last for user, first, last in leave)
        if came or away or shift.user_id not in active:
            continue
        late.append(
            Late(
                user_id=shift.user_id,
                workplace_id=shift.workplace_id,
                shift_id=shift.id,
                starts_at=span.starts_at,
                ends_at=span.ends_at,
                minutes_late=int((min(now, span.ends_at) - span.starts_at).total_seconds() // 60),
                absent=span.ends_at <= now,
            )
        )
    return sorted(late, key=lambda item: (item.starts_at, str(item.user_id)), reverse=True)


async def notify_lateness(session: AsyncSession, *, tenant_id: UUID, now: datetime) -> int:
    """Send the lateness steps due at ``now`` that were not sent before; returns how many are due in all."""
    policy = await work_policy(session)
    escalate = timedelta(minutes=policy.late_after_minutes + policy.escalate_after_minutes)
    late = await late_now(session, now)
    for item in late:
        where = await session.scalar(select(Workplace.name).where(Workplace.id == item.workplace_id))
        person = await session.scalar(select(User.name).where(User.id == item.user_id))
        queue_event(
            session,
            board_topic(tenant_id),
            LateOnBoard(
                workplace_id=item.workplace_id,
                user_id=item.user_id,
                name=person or "",
                shift_starts_at=item.starts_at,
                minutes_late=item.minutes_late,
                absent=item.absent,
            ),
        )
        occurrence = f"{item.shift_id}:{item.starts_at.isoformat()}"
        data = {
            "shift_id": str(item.shift_id),
            "user_id": str(item.user_id),
            "workplace_id": str(item.workplace_id),
            "starts_at": item.starts_at.isoformat(),
        }
        await notify(
            session,
            tenant_id=tenant_id,
            recipients=Recipients(users=[item.user_id]),
            category="shift",
            title=f"You have not clocked in at {where}"[:200],
            body=f"Your shift started at {item.starts_at.isoformat()}.",
            priority="high",
            link="/attendance",
            data=data,
            idempotency_key=f"shift-late:{occurrence}:user",
        )
        if now < item.starts_at + escalate:
            continue
        supervisors = await _supervisors(session, item)
        if supervisors:
            await notify(
                session,
                tenant_id=tenant_id,
                recipients=Recipients(users=supervisors),
                category="shift",
                title=f"{person} has not clocked in at {where}"[:200],
                body=f"Their shift started at {item.starts_at.isoformat()}.",
                priority="high",
                link=f"/workplaces/{item.workplace_id}",
                data=data,
                idempotency_key=f"shift-late:{occurrence}:supervisor",
            )
    return len(late)


async def _supervisors(session: AsyncSession, item: Late) -> list[UUID]:
    """The workplace's current supervisors (not the late person), else the person's manager."""
    supervisors = sorted(set(await workplace_supervisors(session, item.workplace_id)) - {item.user_id})
    if supervisors:
        return supervisors
    manager = await session.scalar(select(User.manager_id).where(User.id == item.user_id))
    return [manager] if manager is not None else []


def lateness_job_handlers(*, db: Database) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The lateness handler ``fieldhub worker`` runs, by job kind; it judges lateness at its slot's start."""

    async def run(job: ClaimedJob) -> None:
        now = datetime.fromisoformat(job.payload["slot_start"])
        async with db.transaction(tenant_id=job.tenant_id) as session:
            await notify_lateness(session, tenant_id=job.tenant_id, now=now)

    return {LATENESS_JOB: run}
