"""Leave rules: types per tenant, and requests on working days of the requester's time zone that never overlap
another pending or approved request of theirs and never exceed the available balance unless the type allows.

A person's requests are serialised by a transaction-scoped advisory lock, so two requests sent at once
cannot both pass the overlap and balance checks. A request goes to approval (kind ``leave``) in the
transaction that creates it; :mod:`api.leave.decisions` follows the final decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import and_, case, extract, func, not_, select, text

from api.approvals.services import cancel_locked, lock_open_request, submit
from api.attendance.policy import DEFAULTS as POLICY_DEFAULTS
from api.audit import Origin, record
from api.errors import AppError
from api.holidays.calendar import person_holidays
from api.leave.balances import COUNTED, accrued, working_days
from api.workplaces.base import AuditsTarget, FieldService, changes, equal_to, require_row, utc_now
from persistence.models import LeaveRequest, LeaveType, User, WorkPolicy

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser
    from api.leave.schemas import LeaveRequestCreate, LeaveTypeCreate, LeaveTypeUpdate

APPROVAL_KIND = "leave"
"""The kind of approval request a leave request waits on (its ``subject_id`` is the leave request's id)."""


def local_today(zone: str, now: datetime | None = None) -> date:
    """Today's date in ``zone``."""
    return (now or utc_now()).astimezone(ZoneInfo(zone)).date()


class LeaveTypeService(FieldService[LeaveType], AuditsTarget):
    """The tenant's leave types."""

    audit_target = "leave_type"

    class Repo(SQLAlchemyAsyncRepository[LeaveType]):
        model_type = LeaveType

    repository_type = Repo

    async def add_type(self, data: LeaveTypeCreate, *, actor: CurrentUser, origin: Origin) -> LeaveType:
        """Add a leave type (``409 conflict`` for a key in use)."""
        row = await self.create(LeaveType(tenant_id=actor.tenant_id, active=True, **msgspec.structs.asdict(data)))
        self._audit(actor, origin, "leave.type.create", row.id, {"key": row.key})
        return row

    async def change_type(
        self, type_id: UUID, data: LeaveTypeUpdate, *, actor: CurrentUser, origin: Origin
    ) -> LeaveType:
        """Change a leave type; balances follow at once, since they are computed from it."""
        row = await self.get_for_update(type_id)
        fields = changes(data)
        before = {name: getattr(row, name) for name in fields}
        for name, value in fields.items():
            setattr(row, name, value)
        row = await self.update(row)
        self._audit(actor, origin, "leave.type.update", row.id, {"before": before, "after": fields})
        return row


class LeaveRequestService(FieldService[LeaveRequest]):
    """People's leave requests."""

    class Repo(SQLAlchemyAsyncRepository[LeaveRequest]):
        model_type = LeaveRequest

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        user_id: UUID | None = None,
        status: str | None = None,
        leave_type_id: UUID | None = None,
    ) -> tuple[Sequence[LeaveRequest], int]:
        """One page of requests, latest start first."""
        filters: list[Any] = equal_to(user_id=user_id, status=status, leave_type_id=leave_type_id)
        order = [OrderBy("start_date", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def visible(self, request_id: UUID, actor: CurrentUser, *, read_all: bool) -> LeaveRequest:
        """A request the caller may read: their own, or any with ``read_all``; ``not_found`` (404) otherwise."""
        row: LeaveRequest = await require_row(self.session, LeaveRequest, request_id, "request_id")
        if row.user_id != actor.id and not read_all:
            raise AppError("not_found", "No request with this id.", status_code=404, details={"field": "request_id"})
        return row

    async def request_leave(self, data: LeaveRequestCreate, *, actor: CurrentUser, origin: Origin) -> LeaveRequest:
        """Ask for leave; it waits as ``pending`` for the approval request submitted with it.

        Raises:
            AppError: ``not_found`` (404) for a leave type not in the tenant; ``leave_type_inactive`` (409);
                ``invalid_range`` / ``half_day_single_date`` / ``crosses_year`` / ``no_working_days`` (422);
                ``leave_overlap`` (409, naming the other request); ``insufficient_balance`` (409, with what is
                available); ``no_workflow`` / ``no_approvers`` (422) when the tenant's leave workflow finds
                nobody to approve it.
        """
        # The type, the requester's name and time zone and the tenant's rest days in one read.
        found = (
            await self.session.execute(
                select(
                    LeaveType,
                    select(User.name).where(User.id == actor.id).scalar_subquery().label("name"),
                    select(User.timezone).where(User.id == actor.id).scalar_subquery().label("zone"),
                    select(WorkPolicy.rest_days).scalar_subquery().label("rest_days"),
                ).where(LeaveType.id == data.leave_type_id)
            )
        ).first()
        if found is None:
            raise AppError(
                "not_found", "No leave_type with this id.", status_code=404, details={"field": "leave_type_id"}
            )
        leave_type: LeaveType = found.LeaveType
        if not leave_type.active:
            raise AppError("leave_type_inactive", "This leave type is no longer offered.", status_code=409)
        self._check_dates(data)
        rest_days = found.rest_days if found.rest_days is not None else POLICY_DEFAULTS["rest_days"]
        holidays = await person_holidays(self.session, actor.id, data.start_date, data.end_date)
        days = working_days(data.start_date, data.end_date, data.part, rest_days, holidays)
        if days == 0:
            raise AppError(
                "no_working_days", "These dates are all rest days or holidays; nothing to take.", status_code=422
            )
        name, zone = found.name, found.zone
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"leave:{actor.id}"}
        )
        # After the lock, one read: an overlapping request, and what is taken and pending of this type.
        other, taken, pending = await self._overlap_and_use(actor.id, leave_type.id, data)
        if other is not None:
            raise AppError(
                "leave_overlap",
                "This overlaps another pending or approved request of yours.",
                status_code=409,
                details={"request_id": str(other)},
            )
        available = round(accrued(leave_type, data.start_date.year, data.end_date) - taken - pending, 2)
        if days > available and not leave_type.allow_negative:
            raise AppError(
                "insufficient_balance",
                f"This needs {days:g} days; {available:g} are available by {data.end_date}.",
                status_code=409,
                details={"requested": days, "available": available},
            )
        row = LeaveRequest(
            tenant_id=actor.tenant_id,
            user_id=actor.id,
            leave_type_id=leave_type.id,
            start_date=data.start_date,
            end_date=data.end_date,
            part=data.part,
            days=days,
            timezone=zone,
            reason=data.reason,
            status="pending",
        )
        # A plain flush, not the repository's add: its refresh would read the row straight back.
        self.session.add(row)
        await self.session.flush()
        audit_request(self.session, actor.tenant_id, actor.id, origin, "leave.request", row)
        await submit(
            self.session,
            tenant_id=actor.tenant_id,
            kind=APPROVAL_KIND,
            subject_id=row.id,
            requester_id=actor.id,
            title=f"{name}: {leave_type.name}, {leave_dates(row)}, {days:g} day(s)"[:200],
            payload={
                "leave_request_id": str(row.id),
                "leave_type": leave_type.key,
                "start_date": row.start_date.isoformat(),
                "end_date": row.end_date.isoformat(),
                "part": row.part,
                "days": days,
                "reason": row.reason,
            },
            origin=origin,
        )
        return row

    async def cancel(self, request_id: UUID, *, actor: CurrentUser, origin: Origin) -> LeaveRequest:
        """Withdraw one's own pending request (and its approval request), or approved leave that has not started;
        its days are freed.

        Raises:
            AppError: ``not_found`` (404), also for someone else's request; ``not_cancellable`` (409).
        """
        row = await self.visible(request_id, actor, read_all=False)
        approval = await lock_open_request(self.session, kind=APPROVAL_KIND, subject_id=row.id)
        await self.session.refresh(row, with_for_update=True)
        started = row.start_date <= local_today(row.timezone)
        if row.status not in COUNTED or (row.status == "approved" and started):
            raise AppError(
                "not_cancellable",
                "Only pending requests and approved leave that has not started can be cancelled.",
                status_code=409,
                details={"status": row.status},
            )
        row.status, row.decided_by, row.decided_at = "cancelled", actor.id, utc_now()
        # A plain flush, not the repository's update: its merge and refresh would read the row back twice.
        await self.session.flush()
        audit_request(self.session, actor.tenant_id, actor.id, origin, "leave.cancel", row)
        if approval is not None:
            # The decision hook finds the request cancelled already and leaves it as it is.
            await cancel_locked(self.session, approval, actor_id=actor.id, origin=origin)
        return row

    @staticmethod
    def _check_dates(data: LeaveRequestCreate) -> None:
        if data.end_date < data.start_date:
            raise AppError(
                "invalid_range",
                "end_date must not be before start_date.",
                status_code=422,
                details={"fields": ["start_date", "end_date"]},
            )
        if data.part != "full" and data.start_date != data.end_date:
            raise AppError("half_day_single_date", "A half day is one date: start_date = end_date.", status_code=422)
        if data.start_date.year != data.end_date.year:
            raise AppError(
                "crosses_year", "A request stays within one calendar year; split it at 1 January.", status_code=422
            )

    async def _overlap_and_use(
        self, user_id: UUID, leave_type_id: UUID, data: LeaveRequestCreate
    ) -> tuple[UUID | None, float, float]:
        """A pending or approved request of the person sharing a date with ``data`` (the other half of a day is
        free), and the days taken and pending of ``leave_type_id`` in the year of ``data.start_date``."""
        conditions: list[Any] = [
            LeaveRequest.user_id == user_id,
            LeaveRequest.status.in_(COUNTED),
            LeaveRequest.start_date <= data.end_date,
            LeaveRequest.end_date >= data.start_date,
        ]
        if data.part != "full":
            other_half = "pm" if data.part == "am" else "am"
            conditions.append(not_(and_(LeaveRequest.part == other_half, LeaveRequest.start_date == data.start_date)))
        of_year = (
            LeaveRequest.user_id == user_id,
            LeaveRequest.leave_type_id == leave_type_id,
            LeaveRequest.status.in_(COUNTED),
            extract("year", LeaveRequest.start_date) == data.start_date.year,
        )

        def days_in(status: str) -> Any:
            total = func.coalesce(func.sum(case((LeaveRequest.status == status, LeaveRequest.days), else_=0.0)), 0.0)
            return select(total).where(*of_year).scalar_subquery()

        other, taken, pending = (
            await self.session.execute(
                select(
                    select(LeaveRequest.id).where(*conditions).limit(1).scalar_subquery(),
                    days_in("approved"),
                    days_in("pending"),
                )
            )
        ).one()
        return other, float(taken), float(pending)


def leave_dates(row: LeaveRequest) -> str:
    """The request's dates as people read them in a title.

    Example: ``2026-07-06 to 2026-07-10`` for whole days, ``2026-07-06 (AM)`` for a morning.
    """
    dates = f"{row.start_date}" if row.start_date == row.end_date else f"{row.start_date} to {row.end_date}"
    half = "" if row.part == "full" else f" ({row.part.upper()})"
    return f"{dates}{half}"


def audit_request(
    session: AsyncSession, tenant_id: UUID, actor_id: UUID | None, origin: Origin, action: str, row: LeaveRequest
) -> None:
    record(
        session,
        tenant_id=tenant_id,
        action=action,
        actor_user_id=actor_id,
        origin=origin,
        target_type="leave_request",
        target_id=row.id,
        details={
            "user_id": str(row.user_id),
            "status": row.status,
            "start_date": row.start_date.isoformat(),
            "end_date": row.end_date.isoformat(),
            "part": row.part,
            "days": row.days,
        },
    )
