"""Delegations: an approver hands their decisions to another user for a time range, never to themselves and
never so that two people (or a longer ring) hand them to each other over the same time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import or_, select, text

from api.audit import record
from api.errors import AppError
from api.workplaces.base import FieldService, require_aware, require_row, utc_now
from persistence.models import ApprovalDelegation, User

if TYPE_CHECKING:
    from uuid import UUID

    from api.approvals.schemas import DelegationCreate
    from api.audit import Origin
    from api.auth.principal import CurrentUser


class DelegationService(FieldService[ApprovalDelegation]):
    """Delegations of approvals.

    Creating one takes a per-tenant advisory lock for the rest of the transaction, so two concurrent
    delegations cannot together close a ring that neither would alone.
    """

    class Repo(SQLAlchemyAsyncRepository[ApprovalDelegation]):
        model_type = ApprovalDelegation

    repository_type = Repo

    async def mine(self, user_id: UUID, *, limit: int, offset: int) -> tuple[Sequence[ApprovalDelegation], int]:
        """Delegations given or received by ``user_id``, latest start first."""
        involved = or_(ApprovalDelegation.delegator_id == user_id, ApprovalDelegation.delegate_id == user_id)
        order = [OrderBy("starts_at", "desc"), OrderBy("id", "desc")]
        return await self.page_of([involved], limit=limit, offset=offset, order=order)

    async def delegate(self, data: DelegationCreate, *, actor: CurrentUser, origin: Origin) -> ApprovalDelegation:
        """Hand the caller's approvals to ``data.delegate_id`` from ``starts_at`` to ``ends_at``.

        Raises:
            AppError: ``naive_datetime`` (422); ``invalid_range`` (422) when it does not end after it starts
                or has ended already; ``not_found`` (404) for a delegate not an active user of the tenant;
                ``self_delegation`` (422); ``delegation_loop`` (409) when the delegate (directly or through
                others) already hands their approvals back to the caller over part of the range.
        """
        starts_at, ends_at = require_aware(data.starts_at, "starts_at"), require_aware(data.ends_at, "ends_at")
        if ends_at <= starts_at or ends_at <= utc_now():
            raise AppError("invalid_range", "ends_at must be after starts_at and in the future.", status_code=422)
        if data.delegate_id == actor.id:
            raise AppError("self_delegation", "Delegate to someone else.", status_code=422)
        await require_row(self.session, User, data.delegate_id, "delegate_id", status="active")
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"delegations:{actor.tenant_id}"}
        )
        ring = await self._ring(data.delegate_id, actor.id, starts_at, ends_at)
        if ring:
            raise AppError(
                "delegation_loop",
                "The delegate already hands approvals back to you over this time.",
                status_code=409,
                details={"through": [str(u) for u in ring]},
            )
        delegation = await self.create(
            ApprovalDelegation(
                tenant_id=actor.tenant_id,
                delegator_id=actor.id,
                delegate_id=data.delegate_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=data.reason,
            )
        )
        self._audit(actor, origin, "approval_delegation.create", delegation)
        return delegation

    async def revoke(
        self, delegation_id: UUID, *, actor: CurrentUser, may_manage: bool, origin: Origin
    ) -> ApprovalDelegation:
        """End a delegation now (its delegator, or a manager of approvals; ``not_found`` otherwise)."""
        delegation = await self.get_for_update(delegation_id)
        if delegation.delegator_id != actor.id and not may_manage:
            raise AppError("not_found", "No delegation with this id.", status_code=404)
        if delegation.revoked_at is None:
            delegation.revoked_at = utc_now()
            delegation = await self.update(delegation)
            self._audit(actor, origin, "approval_delegation.revoke", delegation)
        return delegation

    async def _ring(self, start: UUID, target: UUID, starts_at: datetime, ends_at: datetime) -> list[UUID]:
        """The chain of delegates from ``start`` back to ``target`` over some part of the range; empty if none.

        Each hop must overlap the part of the range the chain so far still covers.
        """
        frontier: list[tuple[UUID, datetime, datetime, list[UUID]]] = [(start, starts_at, ends_at, [start])]
        seen: set[tuple[UUID, datetime, datetime]] = set()
        while frontier:
            user_id, low, high, path = frontier.pop()
            if (user_id, low, high) in seen:
                continue
            seen.add((user_id, low, high))
            onward = await self.session.execute(
                select(ApprovalDelegation.delegate_id, ApprovalDelegation.starts_at, ApprovalDelegation.ends_at).where(
                    ApprovalDelegation.delegator_id == user_id,
                    ApprovalDelegation.revoked_at.is_(None),
                    ApprovalDelegation.starts_at < high,
                    ApprovalDelegation.ends_at > low,
                )
            )
            for delegate_id, start_at, end_at in onward.tuples():
                if delegate_id == target:
                    return path
                frontier.append((delegate_id, max(low, start_at), min(high, end_at), [*path, delegate_id]))
        return []

    def _audit(self, actor: CurrentUser, origin: Origin, action: str, delegation: ApprovalDelegation) -> None:
        record(
            self.session,
            tenant_id=actor.tenant_id,
            action=action,
            actor_user_id=actor.id,
            origin=origin,
            target_type="approval_delegation",
            target_id=delegation.id,
            details={"delegate_id": str(delegation.delegate_id), "delegator_id": str(delegation.delegator_id)},
        )
