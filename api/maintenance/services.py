"""Maintenance request rules: exactly one target of the tenant, a due time from the SLA, an assignee who is
told, statuses moved only along their allowed steps (each kept with its note), and comments. Every write is
audited in the same transaction. A cost over the tenant's threshold first waits for approval
(:mod:`api.maintenance.approval`).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import msgspec
from advanced_alchemy.filters import OrderBy
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import func, select
from uuid_utils.compat import uuid7

from api.approvals.services import cancel_locked, lock_open_request
from api.audit import Origin
from api.auth.permissions import Permission
from api.errors import AppError
from api.maintenance.approval import APPROVAL_KIND, AWAITING, ask_approval, cost_threshold, over
from api.maintenance.schemas import MaintenanceDetail, maintenance_response, step_response
from api.maintenance.sla import ACTIVE, due_at
from api.workplaces.base import AuditsTarget, FieldService, changes, equal_to, matching, require_row, utc_now
from delivery.notify import Priority, Recipients, notify
from persistence.models import Asset, MaintenanceComment, MaintenanceRequest, MaintenanceStep, User, Workplace

if TYPE_CHECKING:
    from datetime import datetime

    from api.auth.principal import CurrentUser
    from api.maintenance.schemas import CommentCreate, MaintenanceCreate, MaintenanceStatusChange, MaintenanceUpdate

NEXT_STEPS: Final[dict[str, tuple[str, ...]]] = {
    # Only the cost approval moves a request out of waiting for it, or a withdrawal.
    AWAITING: ("cancelled",),
    "open": ("in_progress", "on_hold", "resolved", "cancelled"),
    "in_progress": ("on_hold", "resolved", "cancelled"),
    "on_hold": ("in_progress", "cancelled"),
    "resolved": ("closed", "in_progress"),
    "closed": (),
    "cancelled": (),
    "rejected": (),
}
NOTIFY_PRIORITY: Final[dict[str, Priority]] = {"low": "low", "normal": "normal", "high": "high", "urgent": "high"}
MAX_COST = Decimal("9999999999.99")


def check_cost(cost: Decimal | None) -> Decimal | None:
    """The cost as stored; ``invalid_cost`` (422) unless it is a finite amount from 0 with at most two decimals.

    Example: ``Decimal("120.5")`` is fine; ``Decimal("-1")``, ``Decimal("NaN")`` and ``Decimal("0.001")`` are not.
    """
    if cost is None:
        return None
    exponent = cost.as_tuple().exponent
    if not cost.is_finite() or cost < 0 or cost > MAX_COST or (isinstance(exponent, int) and exponent < -2):
        raise AppError(
            "invalid_cost",
            "The estimated cost is an amount from 0 with at most two decimals.",
            status_code=422,
            details={"estimated_cost": str(cost)},
        )
    return cost


class MaintenanceService(FieldService[MaintenanceRequest], AuditsTarget):
    """The tenant's maintenance requests."""

    audit_target = "maintenance_request"

    class Repo(SQLAlchemyAsyncRepository[MaintenanceRequest]):
        model_type = MaintenanceRequest

    repository_type = Repo

    async def page(
        self,
        *,
        limit: int,
        offset: int,
        status: str | None = None,
        priority: str | None = None,
        assignee_id: UUID | None = None,
        asset_id: UUID | None = None,
        workplace_id: UUID | None = None,
        breached: bool | None = None,
        search: str | None = None,
    ) -> tuple[Sequence[MaintenanceRequest], int]:
        """One page of requests, soonest due first; ``search`` matches the title."""
        filters: list[Any] = [
            *equal_to(
                status=status, priority=priority, assignee_id=assignee_id, asset_id=asset_id, workplace_id=workplace_id
            ),
            *matching(search, "title"),
        ]
        if breached is not None:
            filters.append(
                MaintenanceRequest.breached_at.is_not(None) if breached else MaintenanceRequest.breached_at.is_(None)
            )
        order = [OrderBy("due_at", "asc"), OrderBy("id", "asc")]
        return await self.page_of(filters, limit=limit, offset=offset, order=order)

    async def detail(self, request: MaintenanceRequest) -> MaintenanceDetail:
        """The request with its status history."""
        steps = await self.session.scalars(
            select(MaintenanceStep)
            .where(MaintenanceStep.request_id == request.id)
            .order_by(MaintenanceStep.at, MaintenanceStep.id)
        )
        summary = msgspec.structs.asdict(maintenance_response(request))
        return MaintenanceDetail(**summary, history=[step_response(s) for s in steps])

    async def create_request(
        self, data: MaintenanceCreate, *, actor: CurrentUser, origin: Origin
    ) -> MaintenanceRequest:
        """Raise a request, due by the SLA of its priority; its assignee is notified. One whose estimated cost is
        over the tenant's threshold waits in ``pending_approval`` instead, its approval request submitted with it
        (the assignee is told once it is approved).

        Raises:
            AppError: ``one_target_required`` (422) unless exactly one of asset and workplace is given;
                ``not_found`` (404) for an asset, workplace or assignee not in the tenant;
                ``invalid_cost`` (422); ``no_workflow`` / ``no_approvers`` (422) for a cost over the threshold
                that nobody can approve.
        """
        if (data.asset_id is None) == (data.workplace_id is None):
            raise AppError("one_target_required", "Name exactly one of asset_id and workplace_id.", status_code=422)
        if data.asset_id is not None:
            await require_row(self.session, Asset, data.asset_id, "asset_id")
        if data.workplace_id is not None:
            await require_row(self.session, Workplace, data.workplace_id, "workplace_id")
        await self._check_assignee(data.assignee_id)
        cost = check_cost(data.estimated_cost)
        threshold = await cost_threshold(self.session, actor.tenant_id)
        now = utc_now()
        request = await self.create(
            MaintenanceRequest(
                tenant_id=actor.tenant_id,
                title=data.title,
                description=data.description,
                asset_id=data.asset_id,
                workplace_id=data.workplace_id,
                priority=data.priority,
                status=AWAITING if over(cost, threshold) else "open",
                assignee_id=data.assignee_id,
                requested_by=actor.id,
                due_at=await due_at(self.session, data.priority, now),
                estimated_cost=cost,
                created_at=now,
            )
        )
        self._add_step(request, actor, None, "", now)
        self._audit(actor, origin, "maintenance.create", request.id, {"priority": request.priority})
        if request.status == AWAITING:
            assert threshold is not None
            await ask_approval(self.session, request, threshold=threshold, requester_id=actor.id, origin=origin)
        else:
            await self._notify_assignee(request, actor)
        return request

    async def update_request(
        self, request_id: UUID, data: MaintenanceUpdate, *, actor: CurrentUser, origin: Origin
    ) -> MaintenanceRequest:
        """Change a request; a new priority moves its due time (counted from its creation) and lets it
        breach again, a new assignee is notified. A cost raised over both the tenant's threshold and the previous
        cost of an active request sends it back to ``pending_approval`` until approved. The same errors as on
        creation, and ``approval_pending`` (409) for a new cost while one waits for approval."""
        request = await self.get_for_update(request_id)
        fields = changes(data)
        await self._check_assignee(fields.get("assignee_id"))
        threshold: Decimal | None = None
        if "estimated_cost" in fields:
            fields["estimated_cost"] = check_cost(fields["estimated_cost"])
            if request.status == AWAITING and fields["estimated_cost"] != request.estimated_cost:
                raise AppError(
                    "approval_pending",
                    "The cost waits for approval; cancel the request or wait for the decision to change it.",
                    status_code=409,
                )
            raised = fields["estimated_cost"] is not None and (
                request.estimated_cost is None or fields["estimated_cost"] > request.estimated_cost
            )
            if raised and request.status in ACTIVE:
                threshold = await cost_threshold(self.session, actor.tenant_id)
        changed = sorted(name for name, value in fields.items() if getattr(request, name) != value)
        for name in changed:
            setattr(request, name, fields[name])
        if "priority" in changed:
            moved = await due_at(self.session, request.priority, request.created_at)
            if moved != request.due_at:
                request.due_at, request.breached_at = moved, None
        previous = request.status
        if over(request.estimated_cost, threshold):
            request.status = AWAITING
        request = await self.update(request)
        if changed:
            self._audit(actor, origin, "maintenance.update", request.id, {"fields": changed})
        if request.status == AWAITING and previous != AWAITING:
            assert threshold is not None
            self._add_step(request, actor, previous, "Estimated cost over the approval threshold.", utc_now())
            await ask_approval(self.session, request, threshold=threshold, requester_id=actor.id, origin=origin)
        elif "assignee_id" in changed:
            await self._notify_assignee(request, actor)
        return request

    async def change_status(
        self, request_id: UUID, data: MaintenanceStatusChange, *, actor: CurrentUser, origin: Origin
    ) -> MaintenanceRequest:
        """Move a request along its allowed steps, kept in its history with the note.

        Raises:
            AppError: ``not_your_request`` (403) unless the caller is its assignee or may change any request;
                ``invalid_transition`` (409, naming the allowed next steps). Cancelling one that waits for its
                cost approval withdraws the approval request too.
        """
        # The approval request first, then the subject: the order a decision locks them in.
        approval = await lock_open_request(self.session, kind=APPROVAL_KIND, subject_id=request_id)
        request = await self.get_for_update(request_id)
        if request.assignee_id != actor.id and not actor.can(Permission.MAINTENANCE_WRITE):
            raise AppError(
                "not_your_request", "Only the assignee or a maintenance manager may do this.", status_code=403
            )
        allowed = NEXT_STEPS[request.status]
        if data.status not in allowed:
            raise AppError(
                "invalid_transition",
                f"A request {request.status!r} cannot move to {data.status!r}.",
                status_code=409,
                details={"from": request.status, "to": data.status, "allowed": list(allowed)},
            )
        now = utc_now()
        previous, request.status = request.status, data.status
        if data.status == "resolved":
            request.resolved_at = now
        elif data.status == "in_progress":
            request.resolved_at = None
        request.closed_at = now if data.status in ("closed", "cancelled") else None
        request = await self.update(request)
        self._add_step(request, actor, previous, data.note, now)
        self._audit(
            actor, origin, "maintenance.status", request.id, {"from": previous, "to": data.status, "note": data.note}
        )
        if approval is not None and previous == AWAITING:
            # The decision hook finds the request cancelled already and leaves it as it is.
            await cancel_locked(self.session, approval, actor_id=actor.id, may_manage=True, origin=origin)
        return request

    async def comments(self, request_id: UUID, *, limit: int, offset: int) -> tuple[Sequence[MaintenanceComment], int]:
        """Comments on the request, oldest first."""
        await self.get(request_id)
        condition = MaintenanceComment.request_id == request_id
        total = await self.session.scalar(select(func.count()).select_from(MaintenanceComment).where(condition))
        rows = await self.session.scalars(
            select(MaintenanceComment)
            .where(condition)
            .order_by(MaintenanceComment.created_at, MaintenanceComment.id)
            .limit(limit)
            .offset(offset)
        )
        return rows.all(), total or 0

    async def add_comment(
        self, request_id: UUID, data: CommentCreate, *, actor: CurrentUser, origin: Origin
    ) -> MaintenanceComment:
        """Comment on the request."""
        request = await self.get(request_id)
        comment = MaintenanceComment(
            tenant_id=actor.tenant_id, request_id=request.id, author_id=actor.id, body=data.body
        )
        self.session.add(comment)
        await self.session.flush()
        self._audit(actor, origin, "maintenance.comment", request.id, {"comment_id": str(comment.id)})
        return comment

    async def _check_assignee(self, assignee_id: UUID | None) -> None:
        if assignee_id is not None:
            await require_row(self.session, User, assignee_id, "assignee_id", status="active")

    async def _notify_assignee(self, request: MaintenanceRequest, actor: CurrentUser) -> None:
        """Tell the assignee, in this transaction; nobody is told about a request they gave themselves."""
        if request.assignee_id is None or request.assignee_id == actor.id:
            return
        await notify(
            self.session,
            tenant_id=actor.tenant_id,
            recipients=Recipients(users=[request.assignee_id]),
            category="task",
            title=f"Maintenance for you: {request.title}"[:200],
            body=f"{request.description[:3800]} Due {request.due_at.isoformat()}.".strip(),
            priority=NOTIFY_PRIORITY[request.priority],
            link=f"/maintenance/{request.id}",
            data={"maintenance_id": str(request.id)},
            # Each assignment is its own event: reassigning later notifies again.
            idempotency_key=f"maintenance.assigned:{request.id}:{request.assignee_id}:{uuid7()}",
        )

    def _add_step(
        self, request: MaintenanceRequest, actor: CurrentUser, from_status: str | None, note: str, at: datetime
    ) -> None:
        self.session.add(
            MaintenanceStep(
                tenant_id=actor.tenant_id,
                request_id=request.id,
                from_status=from_status,
                to_status=request.status,
                note=note,
                actor_id=actor.id,
                at=at,
            )
        )
