"""Overtime records: one's own and everyone's, and withdrawing one's own pending claim with its approval request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository

from api.approvals.services import cancel_locked, lock_open_request
from api.audit import Origin, record
from api.errors import AppError
from api.overtime.approval import APPROVAL_KIND
from api.workplaces.base import FieldService, equal_to, utc_now
from persistence.models import OvertimeRecord

if TYPE_CHECKING:
    from uuid import UUID

    from api.auth.principal import CurrentUser


class OvertimeService(FieldService[OvertimeRecord]):
    """The tenant's overtime records."""

    class Repo(SQLAlchemyAsyncRepository[OvertimeRecord]):
        model_type = OvertimeRecord

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        user_id: UUID | None = None,
        status: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> tuple[Sequence[OvertimeRecord], int]:
        """One page of records, latest period first; ``since`` / ``until`` bound the period's start."""
        filters: list[Any] = equal_to(user_id=user_id, status=status)
        if since is not None:
            filters.append(OvertimeRecord.period_start >= since)
        if until is not None:
            filters.append(OvertimeRecord.period_start <= until)
        order = [OrderBy("period_start", "desc"), OrderBy("id", "desc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def cancel(self, overtime_id: UUID, *, actor: CurrentUser, origin: Origin) -> OvertimeRecord:
        """Withdraw one's own pending overtime and its approval request; more work in the same period raises a
        new claim.

        Raises:
            AppError: ``not_found`` (404), also for someone else's record; ``not_pending`` (409).
        """
        # Its approval request first, then the record: the order a decision locks them in.
        approval = await lock_open_request(self.session, kind=APPROVAL_KIND, subject_id=overtime_id)
        row = await self.get_for_update(overtime_id)
        if row.user_id != actor.id:
            raise AppError("not_found", "No overtime with this id.", status_code=404, details={"field": "overtime_id"})
        if row.status != "pending":
            raise AppError(
                "not_pending",
                "Only pending overtime can be cancelled.",
                status_code=409,
                details={"status": row.status},
            )
        row.status, row.decided_by, row.decided_at = "cancelled", actor.id, utc_now()
        row = await self.update(row)
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action="overtime.cancel",
            actor_user_id=actor.id,
            origin=origin,
            target_type="overtime",
            target_id=row.id,
            details={"minutes": row.minutes, "kind": row.kind, "period_start": row.period_start.isoformat()},
        )
        if approval is not None:
            # The decision hook finds the record cancelled already and leaves it as it is.
            await cancel_locked(self.session, approval, actor_id=actor.id, origin=origin)
        return row
