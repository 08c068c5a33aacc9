"""Leave arithmetic: working days of a request, what a type has accrued by a date, and balances.

Balances are sums over a year's requests in SQL, never stored: ``taken`` is approved requests, ``pending``
those waiting for a decision, and ``available`` what has accrued minus both. A request is checked against
what will have accrued by its last day, so leave can be booked ahead of the months that earn it, but
those months' accrual is then spoken for.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import case, extract, func, select

from api.leave.schemas import Balance
from api.shifts.recurrence import WEEKDAYS
from persistence.models import LeaveRequest, LeaveType

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

COUNTED = ("pending", "approved")
"""Request statuses that hold days of a balance."""


def working_days(
    first: date, last: date, part: str, rest_days: Iterable[str], holidays: Collection[date] = ()
) -> float:
    """Days from ``first`` to ``last`` (both included) that are neither rest days nor ``holidays``; a half day
    counts 0.5.

    Example: Friday to Monday with ``["sat", "sun"]`` off is 2.0, and 1.0 when that Monday is a holiday; the
    ``am`` of a Saturday is 0.0.
    """
    off = set(rest_days)
    dates = (first + timedelta(days=offset) for offset in range((last - first).days + 1))
    count = sum(1 for day in dates if WEEKDAYS[day.weekday()] not in off and day not in holidays)
    return count / 2 if part != "full" else float(count)


def accrued(leave_type: LeaveType, year: int, through: date) -> float:
    """What ``leave_type`` has earned in ``year`` by the date ``through``, rounded to hundredths.

    Example: 24 days a year accrued monthly give 6.0 through any date in April.
    """
    if through.year > year or (leave_type.accrual == "yearly" and through.year == year):
        return leave_type.yearly_days
    if through.year < year:
        return leave_type.yearly_days if leave_type.accrual == "yearly" else 0.0
    return round(leave_type.yearly_days * through.month / 12, 2)


async def used(session: AsyncSession, user_id: UUID, year: int) -> dict[UUID, tuple[float, float]]:
    """``(taken, pending)`` days per leave type of the person's requests starting in ``year``."""
    rows = await session.execute(
        select(
            LeaveRequest.leave_type_id,
            func.coalesce(func.sum(case((LeaveRequest.status == "approved", LeaveRequest.days), else_=0.0)), 0.0),
            func.coalesce(func.sum(case((LeaveRequest.status == "pending", LeaveRequest.days), else_=0.0)), 0.0),
        )
        .where(
            LeaveRequest.user_id == user_id,
            LeaveRequest.status.in_(COUNTED),
            extract("year", LeaveRequest.start_date) == year,
        )
        .group_by(LeaveRequest.leave_type_id)
    )
    return {type_id: (float(taken), float(pending)) for type_id, taken, pending in rows.tuples()}


def balance(leave_type: LeaveType, year: int, through: date, taken: float, pending: float) -> Balance:
    earned = accrued(leave_type, year, through)
    return Balance(
        leave_type_id=leave_type.id,
        key=leave_type.key,
        name=leave_type.name,
        year=year,
        entitled=leave_type.yearly_days,
        accrued=earned,
        taken=taken,
        pending=pending,
        available=round(earned - taken - pending, 2),
        allow_negative=leave_type.allow_negative,
    )


async def balances(session: AsyncSession, user_id: UUID, year: int, today: date) -> list[Balance]:
    """The person's balance of every active leave type for ``year``, accrued as of ``today``."""
    usage = await used(session, user_id, year)
    types = await session.scalars(select(LeaveType).where(LeaveType.active.is_(True)).order_by(LeaveType.key))
    return [balance(t, year, today, *usage.get(t.id, (0.0, 0.0))) for t in types]
