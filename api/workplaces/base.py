"""What the field operations services share: the identity services' base, time checks, audit records and tenant lookups.

Each service is built per request on the request's session, which runs as the caller's tenant:
row-level security hides every other tenant's rows, so an id of another tenant is simply not found.
Foreign keys are not enough for ids in a body: Postgres checks them past row-level security, so
every referenced id is first looked up here, as the tenant.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from sqlalchemy import select

from api.audit import record
from api.errors import AppError
from api.identity.services._base import IdentityService, changes, equal_to, matching

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser

__all__ = [
    "AuditsTarget",
    "FieldService",
    "changes",
    "equal_to",
    "local_instant",
    "matching",
    "missing_row",
    "require_aware",
    "require_row",
    "utc_now",
]

FieldService = IdentityService
"""Per-request session, exact page totals and row locks: the same base as the identity services."""


class AuditsTarget:
    """Mixed into a service (after its base) whose writes are audited against one kind of row, ``audit_target``."""

    audit_target: ClassVar[str]
    """The ``target_type`` of the audit records (``"incident"``)."""

    if TYPE_CHECKING:

        @property
        def session(self) -> AsyncSession: ...

    def _audit(self, actor: CurrentUser, origin: Origin, action: str, target_id: UUID, details: dict[str, Any]) -> None:
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action=action,
            actor_user_id=actor.id,
            origin=origin,
            target_type=self.audit_target,
            target_id=target_id,
            details=details,
        )


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``.

    A time skipped by a spring-forward jump reads as if the clock had not jumped yet, and a time that
    happens twice on a fall-back day is its first occurrence. Example: 02:30 on 29 March 2026 in
    Europe/Paris gives ``2026-03-29T01:30:00+00:00`` (03:30 local, summer time); 09:00 on 30 March 2026
    gives ``2026-03-30T07:00:00+00:00``.
    """
    # Round-tripping through UTC moves a skipped local time forward by the gap (fold=0 semantics).
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """``value`` in UTC; ``naive_datetime`` (422) when it carries no offset, since its instant is unknown.

    Example: ``2026-03-29T09:00:00+02:00`` gives ``2026-03-29T07:00:00+00:00``.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise AppError(
            "naive_datetime",
            f"{field} needs a time zone offset, e.g. 2026-03-29T09:00:00+02:00.",
            status_code=422,
            details={"field": field},
        )
    return value.astimezone(UTC)


def require_not_future(value: datetime, field: str, *, skew: timedelta) -> None:
    """``in_future`` (422) when ``value`` is later than now by more than a device clock's ``skew``."""
    if value > utc_now() + skew:
        raise AppError(
            "in_future",
            f"{field} is in the future.",
            status_code=422,
            details={"field": field, "allowed_skew_seconds": int(skew.total_seconds())},
        )


async def require_row(session: AsyncSession, model: Any, item_id: UUID, field: str, **conditions: Any) -> Any:
    """The row ``item_id`` of ``model`` in the caller's tenant, else ``not_found`` (404) naming ``field``.

    ``conditions`` are further equalities the row must meet (``status="active"``).
    """
    statement = select(model).where(model.id == item_id)
    for name, value in conditions.items():
        statement = statement.where(getattr(model, name) == value)
    row = await session.scalar(statement)
    if row is None:
        raise missing_row(field)
    return row


def missing_row(field: str) -> AppError:
    """``not_found`` (404) naming ``field``: no row with the id it holds in the caller's tenant."""
    return AppError(
        "not_found", f"No {field.removesuffix('_id')} with this id.", status_code=404, details={"field": field}
    )
