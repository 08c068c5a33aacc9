"""Which days are public holidays for a workplace or a person.

A holiday applies at a workplace when it is the tenant's, its region's or its own. It applies to a person
when it is the tenant's, or when it applies at every workplace they are currently assigned to: someone
working in two regions is off only on the days both keep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from persistence.models import PublicHoliday, Workplace, WorkplaceAssignment

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["Place", "kept_at", "kept_where", "person_holidays", "workplace_holidays"]

Place = tuple["UUID", "str | None"]
"""A workplace's id and region."""


def kept_at(places: Iterable[Place]) -> Any:
    """The condition that a holiday is kept at one of ``places``: the tenant's, their region's or their own."""
    places = list(places)
    return kept_where([place_id for place_id, _ in places], {region for _, region in places if region is not None})


def kept_where(place_ids: Any, regions: Any) -> Any:
    """The condition that a holiday is the tenant's, one of ``regions``' or one of ``place_ids``' own (each a
    collection, or a subquery selecting them)."""
    return (
        (PublicHoliday.region.is_(None) & PublicHoliday.workplace_id.is_(None))
        | PublicHoliday.region.in_(regions)
        | PublicHoliday.workplace_id.in_(place_ids)
    )


def _applies(holiday: PublicHoliday, place: Place) -> bool:
    if holiday.workplace_id is not None:
        return holiday.workplace_id == place[0]
    return holiday.region is None or holiday.region == place[1]


async def workplace_holidays(
    session: AsyncSession, workplace_ids: Iterable[UUID], first: date, last: date
) -> dict[UUID, dict[date, str]]:
    """For each workplace, its holidays from ``first`` to ``last`` (both included): date to name."""
    rows = await session.execute(select(Workplace.id, Workplace.region).where(Workplace.id.in_(set(workplace_ids))))
    places: list[Place] = list(rows.tuples())
    found: dict[UUID, dict[date, str]] = {place_id: {} for place_id, _ in places}
    if not places:
        return found
    holidays = await session.scalars(
        select(PublicHoliday).where(PublicHoliday.day.between(first, last), kept_at(places))
    )
    for holiday in holidays:
        for place in places:
            if _applies(holiday, place):
                found[place[0]][holiday.day] = holiday.name
    return found


async def person_holidays(session: AsyncSession, user_id: UUID, first: date, last: date) -> dict[date, str]:
    """The person's holidays from ``first`` to ``last`` (both included), date to name: the tenant's, and those
    kept at every workplace they are currently assigned to. One query when the range has no holiday at all."""
    holidays = (await session.scalars(select(PublicHoliday).where(PublicHoliday.day.between(first, last)))).all()
    if not holidays:
        return {}
    rows = await session.execute(
        select(Workplace.id, Workplace.region)
        .join(WorkplaceAssignment, WorkplaceAssignment.workplace_id == Workplace.id)
        .where(WorkplaceAssignment.user_id == user_id, WorkplaceAssignment.ended_at.is_(None))
    )
    places: list[Place] = list(rows.tuples())
    found: dict[date, str] = {}
    for day in sorted({holiday.day for holiday in holidays}):
        same_day = [holiday for holiday in holidays if holiday.day == day]
        everywhere = [h.name for h in same_day if h.region is None and h.workplace_id is None]
        if everywhere:
            found[day] = everywhere[0]
        elif places and all(any(_applies(h, place) for h in same_day) for place in places):
            found[day] = next(h.name for h in same_day if _applies(h, places[0]))
    return found
