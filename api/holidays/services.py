"""Holiday rules: a holiday is for the whole tenant, one region or one workplace (:mod:`api.holidays.calendar`
says where it applies), one per scope and date. Adding, moving or removing one recounts what it changes in the
same transaction: the days of the pending and approved leave it falls in, so balances never charge a holiday,
and the overtime of the people who worked on it, since work on a holiday is rest-day work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import and_, or_, select

from api.attendance.policy import work_policy
from api.errors import AppError
from api.holidays.calendar import kept_at, person_holidays
from api.leave.balances import COUNTED, working_days
from api.overtime.compute import recompute_overtime
from api.workplaces.base import AuditsTarget, FieldService, changes, require_row, utc_now
from persistence.models import AttendanceRecord, LeaveRequest, PublicHoliday, Workplace

if TYPE_CHECKING:
    from datetime import date
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.holidays.schemas import HolidayCreate, HolidayUpdate


class HolidayService(FieldService[PublicHoliday], AuditsTarget):
    """The tenant's holiday calendar."""

    audit_target = "holiday"

    class Repo(SQLAlchemyAsyncRepository[PublicHoliday]):
        model_type = PublicHoliday

    repository_type = Repo

    async def page(
        self,
        *,
        first: date,
        last: date,
        limit: int,
        offset: int,
        region: str | None = None,
        workplace_id: UUID | None = None,
    ) -> tuple[Sequence[PublicHoliday], int]:
        """One page of the holidays from ``first`` to ``last`` (both included), by date; with a region or a
        workplace, only those kept there (the tenant's ones included)."""
        filters: list[Any] = [PublicHoliday.day >= first, PublicHoliday.day <= last]
        if workplace_id is not None:
            place: Workplace = await require_row(self.session, Workplace, workplace_id, "workplace_id")
            filters.append(kept_at([(place.id, place.region)]))
        elif region is not None:
            filters.append(PublicHoliday.workplace_id.is_(None))
            filters.append((PublicHoliday.region == region) | PublicHoliday.region.is_(None))
        order = [OrderBy("day", "asc"), OrderBy("id", "asc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def add(self, data: HolidayCreate, *, actor: CurrentUser, origin: Origin) -> PublicHoliday:
        """Add a holiday.

        Raises:
            AppError: ``invalid_scope`` (422) with both a region and a workplace; ``not_found`` (404) for a
                workplace not in the tenant; ``conflict`` (409) for a second holiday on a date and scope.
        """
        if data.region is not None and data.workplace_id is not None:
            raise AppError(
                "invalid_scope",
                "A holiday is for a region or for a workplace, not both.",
                status_code=422,
                details={"fields": ["region", "workplace_id"]},
            )
        if data.workplace_id is not None:
            await require_row(self.session, Workplace, data.workplace_id, "workplace_id")
        row = await self.create(PublicHoliday(tenant_id=actor.tenant_id, **msgspec.structs.asdict(data)))
        self._audit(actor, origin, "holiday.create", row.id, _facts(row))
        await recount(self.session, actor.tenant_id, {row.day})
        return row

    async def change(
        self, holiday_id: UUID, data: HolidayUpdate, *, actor: CurrentUser, origin: Origin
    ) -> PublicHoliday:
        """Move or rename a holiday (``not_found`` (404), ``conflict`` (409) for a date taken in its scope)."""
        row = await self.get_for_update(holiday_id)
        before, old_day = _facts(row), row.day
        for name, value in changes(data).items():
            setattr(row, name, value)
        row = await self.update(row)
        self._audit(actor, origin, "holiday.update", row.id, {"before": before, "after": _facts(row)})
        await recount(self.session, actor.tenant_id, {old_day, row.day})
        return row

    async def remove(self, holiday_id: UUID, *, actor: CurrentUser, origin: Origin) -> None:
        """Remove a holiday (``not_found`` (404))."""
        row = await self.get_for_update(holiday_id)
        await self.delete(row.id)
        self._audit(actor, origin, "holiday.delete", row.id, _facts(row))
        await recount(self.session, actor.tenant_id, {row.day})


def _facts(row: PublicHoliday) -> dict[str, Any]:
    scope = {"region": row.region, "workplace_id": str(row.workplace_id) if row.workplace_id else None}
    return {"day": row.day.isoformat(), "name": row.name, **scope}


async def recount_leave(session: AsyncSession, days: set[date]) -> int:
    """Recount the working days of every pending or approved leave request covering one of ``days``, with the
    holidays as they are now; returns how many requests changed."""
    policy = await work_policy(session)
    touched = await session.scalars(
        select(LeaveRequest)
        .where(
            LeaveRequest.status.in_(COUNTED),
            or_(*(and_(LeaveRequest.start_date <= day, LeaveRequest.end_date >= day) for day in days)),
        )
        .with_for_update()
    )
    changed = 0
    for request in touched:
        holidays = await person_holidays(session, request.user_id, request.start_date, request.end_date)
        days_now = working_days(request.start_date, request.end_date, request.part, policy.rest_days, holidays)
        if days_now != request.days:
            request.days = days_now
            changed += 1
    await session.flush()
    return changed


async def recount_overtime(session: AsyncSession, tenant_id: UUID, days: set[date]) -> None:
    """Recompute the overtime of everyone who worked on one of ``days`` (a local day lies within a day of
    the UTC one, so the search looks a day either side)."""
    now = utc_now()
    for day in sorted(days):
        starts = datetime.combine(day - timedelta(days=1), time(0), UTC)
        ends = datetime.combine(day + timedelta(days=2), time(0), UTC)
        people = await session.scalars(
            select(AttendanceRecord.user_id)
            .where(
                AttendanceRecord.clock_in_at < ends,
                or_(AttendanceRecord.clock_out_at.is_(None), AttendanceRecord.clock_out_at > starts),
            )
            .distinct()
        )
        for user_id in people.all():
            await recompute_overtime(session, tenant_id=tenant_id, user_id=user_id, spans=[(starts, ends)], now=now)


async def recount(session: AsyncSession, tenant_id: UUID, days: set[date]) -> None:
    """Bring the leave and overtime that ``days`` touch in line with the holidays as they now are."""
    await recount_leave(session, days)
    await recount_overtime(session, tenant_id, days)
