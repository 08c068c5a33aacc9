"""Telling people about their shifts: planned, changed, cancelled or removed, in the transaction that does it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from delivery.notify import Recipients, notify

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.models import Shift

Change = Literal["planned", "changed", "cancelled", "removed", "given_away"]

TITLES: dict[Change, str] = {
    "planned": "You have a new shift",
    "changed": "Your shift was changed",
    "cancelled": "Your shift was cancelled",
    "removed": "Your shift was removed",
    "given_away": "Your shift was given to someone else",
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
