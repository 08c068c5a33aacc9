"""What a report runs over: the local days of the range in the tenant's time zone, the filters, and the
caller's scope (a supervisor sees the people and workplaces they lead; ``reports:all`` sees everyone)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec
from sqlalchemy import false, or_, select

from api.auth.permissions import Permission
from api.errors import AppError
from persistence.models import Department, Role, Tenant, User, UserRole, Workplace, WorkplaceAssignment

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import QueryableAttribute

    Column = ColumnElement[Any] | QueryableAttribute[Any]

__all__ = [
    "MAX_DAYS",
    "ReportParams",
    "ReportQuery",
    "Scope",
    "permissions_of",
    "resolve_query",
    "scope_of",
    "tenant_timezone",
]

S = TypeVar("S", bound="Select[Any]")
MAX_DAYS = 3660
"""The longest range a report covers (about ten years)."""


class ReportParams(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The parameters every template takes; days are local to the tenant's time zone, both included."""

    start: date | None = msgspec.field(default=None, name="from")
    end: date | None = msgspec.field(default=None, name="to")
    department_id: UUID | None = None
    workplace_id: UUID | None = None
    user_id: UUID | None = None


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """Whom a report may show: ``None`` sets mean the whole tenant."""

    users: frozenset[UUID] | None
    workplaces: frozenset[UUID] | None


class ReportQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A report's resolved window (UTC instants of the local days), filters and scope."""

    first_day: date
    last_day: date
    timezone: str
    start: datetime
    end: datetime
    """The instant the day after ``last_day`` starts (excluded)."""
    now: datetime
    department_id: UUID | None
    workplace_id: UUID | None
    user_id: UUID | None
    scope: Scope

    def narrow(self, statement: S, *, user: Column | None = None, workplace: Column | None = None) -> S:
        """``statement`` limited by the filters and the scope, on the template's person and workplace columns.

        Raises:
            AppError: ``unsupported_parameter`` (422) for a filter the template has no column for.
        """
        for name, value, column in (
            ("user_id", self.user_id, user),
            ("workplace_id", self.workplace_id, workplace),
            ("department_id", self.department_id, user if user is not None else workplace),
        ):
            if value is not None and column is None:
                raise AppError(
                    "unsupported_parameter",
                    f"This report cannot be filtered by {name}.",
                    status_code=422,
                    details={"field": name},
                )
        if self.user_id is not None and user is not None:
            statement = statement.where(user == self.user_id)
        if self.workplace_id is not None and workplace is not None:
            statement = statement.where(workplace == self.workplace_id)
        if self.department_id is not None:
            if user is not None:
                statement = statement.where(user.in_(select(User.id).where(User.department_id == self.department_id)))
            elif workplace is not None:
                statement = statement.where(
                    workplace.in_(select(Workplace.id).where(Workplace.department_id == self.department_id))
                )
        if self.scope.users is None:
            return statement
        allowed: list[ColumnElement[bool]] = []
        if user is not None:
            allowed.append(user.in_(self.scope.users))
        if workplace is not None and self.scope.workplaces is not None:
            allowed.append(workplace.in_(self.scope.workplaces))
        return statement.where(or_(*allowed) if allowed else false())


async def tenant_timezone(session: AsyncSession, tenant_id: UUID) -> str:
    """The tenant's time zone (its ``timezone`` setting), UTC when it has none or an unknown one."""
    settings = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id))
    name = (settings or {}).get("timezone") or "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return str(name)


async def permissions_of(session: AsyncSession, user_id: UUID) -> frozenset[str]:
    """Every permission the person's roles hold (for a schedule's owner, who is not the caller)."""
    rows = await session.scalars(
        select(Role.permissions).join(UserRole, UserRole.role_id == Role.id).where(UserRole.user_id == user_id)
    )
    return frozenset(name for permissions in rows for name in permissions)


async def scope_of(session: AsyncSession, user_id: UUID, permissions: frozenset[str]) -> Scope:
    """Whom ``user_id`` may report on: everyone with ``reports:all``; otherwise the people of the departments
    they head (and their own reports), and the workplaces they supervise with the people assigned there."""
    if Permission.REPORTS_ALL.value in permissions:
        return Scope(users=None, workplaces=None)
    headed = select(Department.id).where(Department.head_user_id == user_id)
    supervised = select(WorkplaceAssignment.workplace_id).where(
        WorkplaceAssignment.user_id == user_id,
        WorkplaceAssignment.role == "supervisor",
        WorkplaceAssignment.ended_at.is_(None),
    )
    workplaces = set(
        await session.scalars(
            select(Workplace.id).where(or_(Workplace.id.in_(supervised), Workplace.department_id.in_(headed)))
        )
    )
    users = set(
        await session.scalars(
            select(User.id).where(
                or_(
                    User.department_id.in_(headed),
                    User.manager_id == user_id,
                    User.id.in_(
                        select(WorkplaceAssignment.user_id).where(
                            WorkplaceAssignment.workplace_id.in_(supervised), WorkplaceAssignment.ended_at.is_(None)
                        )
                    ),
                )
            )
        )
    )
    return Scope(users=frozenset(users), workplaces=frozenset(workplaces))


async def resolve_query(
    session: AsyncSession, *, tenant_id: UUID, params: ReportParams, scope: Scope, now: datetime | None = None
) -> ReportQuery:
    """The window and filters of ``params``: the last 30 local days by default.

    Raises:
        AppError: ``invalid_range`` (422) when ``from`` is after ``to`` or the range exceeds :data:`MAX_DAYS`.
    """
    now = now or datetime.now(UTC)
    zone_name = await tenant_timezone(session, tenant_id)
    zone = ZoneInfo(zone_name)
    last_day = params.end or now.astimezone(zone).date()
    first_day = params.start or last_day - timedelta(days=29)
    if first_day > last_day or (last_day - first_day).days >= MAX_DAYS:
        raise AppError(
            "invalid_range",
            f"'from' must be on or before 'to', and the range at most {MAX_DAYS} days.",
            status_code=422,
            details={"from": first_day.isoformat(), "to": last_day.isoformat()},
        )
    return ReportQuery(
        first_day=first_day,
        last_day=last_day,
        timezone=zone_name,
        start=datetime.combine(first_day, time(), zone).astimezone(UTC),
        end=datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(UTC),
        now=now,
        department_id=params.department_id,
        workplace_id=params.workplace_id,
        user_id=params.user_id,
        scope=scope,
    )
