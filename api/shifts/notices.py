"""Telling people about their shifts: planned, changed, cancelled (whole or one occurrence) or removed, and a
workplace's supervisors about the shifts released when someone stops working there; in the transaction that does it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from delivery.notify import Recipients, notify

if TYPE_CHECKING:
    from uuid import UUID
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.shifts.recurrence import Span
    from persistence.models import Shift

Change = Literal["planned", "changed", "cancelled", "removed", "given_away", "occurrence_cancelled"]

TITLES: dict[Change, str] = {
    "planned": "You have a new shift",
    "changed": "Your shift was changed",
    "cancelled": "Your shift was cancelled",
    "removed": "Your shift was removed",
    "given_away": "Your shift was given to someone else",
    "occurrence_cancelled": "One of your shifts was cancelled",
}


def when(shift: Shift) -> str:
    """The shift's times in a line: ``2026-06-01T07:00:00+00:00 to ...`` or ``weekly mon, tue at 09:00 ...``."""
    if shift.kind == "one_off" and shift.starts_at is not None and shift.ends_at is not None:
        return f"{shift.starts_at.isoformat()} to {shift.ends_at.isoformat()}"
    start = shift.start_time.strftime("%H:%M") if shift.start_time else ""
    until = f" until {shift.until_date}" if shift.until_date else ""
    return (
        f"weekly {', '.join(shift.weekdays)} at {start} for {shift.duration_minutes} min from {shift.from_date}{until}"
    )


async def tell(
    session: AsyncSession, shift: Shift, user_id: UUID, change: Change, *, version: str, reason: str = ""
) -> None:
    """Notify ``user_id`` (category ``shift``) of ``change`` to ``shift``, once per ``version`` of the shift."""
    body = f"{when(shift)} (local time of the workplace for weekly shifts)."
    if reason:
        body += f" Reason: {reason}"
    await notify(
        session,
        tenant_id=shift.tenant_id,
        recipients=Recipients(users=[user_id]),
        category="shift",
        title=TITLES[change],
        body=body,
        link="/shifts",
        data={"shift_id": str(shift.id), "change": change, "workplace_id": str(shift.workplace_id)},
        idempotency_key=f"shift-{change}:{shift.id}:{user_id}:{version}",
    )


async def tell_occurrence_cancelled(
    session: AsyncSession, shift: Shift, span: Span, zone: ZoneInfo, *, reason: str
) -> None:
    """Notify the shift's person that its occurrence ``span`` is called off (once per occurrence)."""
    day = span.starts_at.astimezone(zone).date()
    starts, ends = span.starts_at.astimezone(zone).isoformat(), span.ends_at.astimezone(zone).isoformat()
    await notify(
        session,
        tenant_id=shift.tenant_id,
        recipients=Recipients(users=[shift.user_id]),
        category="shift",
        title=TITLES["occurrence_cancelled"],
        body=f"{starts} to {ends} (local time of the workplace). Reason: {reason}",
        link="/shifts",
        data={
            "shift_id": str(shift.id),
            "change": "occurrence_cancelled",
            "workplace_id": str(shift.workplace_id),
            "day": day.isoformat(),
        },
        idempotency_key=f"shift-occurrence_cancelled:{shift.id}:{day.isoformat()}",
    )


async def tell_supervisors_released(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    workplace_id: UUID,
    user_id: UUID,
    supervisors: list[UUID],
    cancelled: list[UUID],
    shortened: list[UUID],
    key: str,
) -> None:
    """Notify ``supervisors`` that ``user_id`` no longer works at the workplace and which of their shifts there
    were ``cancelled`` or ``shortened`` (weekly ones ending early), so they can cover them; once per ``key``."""
    if not supervisors or not (cancelled or shortened):
        return
    await notify(
        session,
        tenant_id=tenant_id,
        recipients=Recipients(users=supervisors),
        category="shift",
        title="Shifts to cover: someone left the workplace",
        body=(
            f"{len(cancelled)} shift(s) cancelled and {len(shortened)} weekly shift(s) ended early, "
            "as the person is no longer assigned to the workplace."
        ),
        link=f"/workplaces/{workplace_id}",
        data={
            "change": "released",
            "user_id": str(user_id),
            "workplace_id": str(workplace_id),
            "cancelled": [str(item) for item in cancelled],
            "shortened": [str(item) for item in shortened],
        },
        idempotency_key=f"shift-released:{key}",
    )
