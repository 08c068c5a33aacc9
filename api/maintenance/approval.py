"""Maintenance over a cost: a request whose estimated cost is over the tenant's threshold waits in
``pending_approval`` for an approval request of kind ``maintenance_cost`` before any work starts.

The threshold is the tenant's setting ``settings.maintenance.approval_cost_threshold`` (a decimal string, in
the tenant's currency), read and set through ``/api/v1/maintenance/cost-threshold``; with none set, no
maintenance request goes to approval. A cost strictly over the threshold needs approval: on creation, and
when a change raises the cost of an active request over both the threshold and its previous cost.

:func:`apply_decision` follows the decision in the approval's transaction: approved puts the request back
where it was (``open`` for a new one, now due by its SLA counted from the approval, its assignee told);
rejected ends it as ``rejected``; cancelled or expired ends it as ``cancelled``. Each is a status step, audited,
and told to the person who raised it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from api.approvals.services import submit
from api.audit import Origin, record
from api.errors import AppError
from api.maintenance.sla import due_at
from api.workplaces.base import utc_now
from delivery.notify import Recipients, notify
from persistence.models import MaintenanceRequest, MaintenanceStep, Tenant

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.approvals.services.subjects import Outcome

APPROVAL_KIND = "maintenance_cost"
"""The kind of approval request a costly maintenance request waits on (its ``subject_id`` is the request's id)."""
AWAITING: Final = "pending_approval"
"""The status of a request waiting for its cost to be approved (the SLA clock does not run)."""
SETTING: Final = "approval_cost_threshold"
_ENDS: Final[dict[str, str]] = {"rejected": "rejected", "cancelled": "cancelled", "expired": "cancelled"}


async def cost_threshold(session: AsyncSession, tenant_id: UUID) -> Decimal | None:
    """The tenant's threshold, ``None`` when it set none (or an unreadable one)."""
    settings: dict[str, Any] = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    section = settings.get("maintenance")
    value = section.get(SETTING) if isinstance(section, dict) else None
    if value is None:
        return None
    try:
        threshold = Decimal(str(value))
    except InvalidOperation:
        return None
    return threshold if threshold.is_finite() and threshold >= 0 else None


async def set_cost_threshold(session: AsyncSession, tenant_id: UUID, threshold: Decimal | None) -> Decimal | None:
    """Replace the tenant's threshold (``None`` removes it); requests waiting already keep waiting."""
    tenant = await session.scalar(select(Tenant).where(Tenant.id == tenant_id).with_for_update())
    assert tenant is not None
    settings = dict(tenant.settings or {})
    section = dict(settings.get("maintenance") or {})
    if threshold is None:
        section.pop(SETTING, None)
    else:
        section[SETTING] = str(threshold)
    settings["maintenance"] = section
    tenant.settings = settings
    await session.flush()
    return threshold


def over(cost: Decimal | None, threshold: Decimal | None) -> bool:
    """Whether ``cost`` needs approval under ``threshold``.

    Example: ``over(Decimal("500.01"), Decimal("500"))`` is True; ``over(Decimal("500"), Decimal("500"))``,
    ``over(None, Decimal("0"))`` and ``over(Decimal("9"), None)`` are False.
    """
    return cost is not None and threshold is not None and cost > threshold


async def ask_approval(
    session: AsyncSession, request: MaintenanceRequest, *, threshold: Decimal, requester_id: UUID, origin: Origin
) -> None:
    """Submit ``request`` (flushed, already ``pending_approval``) for approval in the caller's transaction.

    Raises:
        AppError: ``no_workflow`` / ``no_approvers`` (422) when the tenant's workflow finds nobody to approve it.
    """
    await submit(
        session,
        tenant_id=request.tenant_id,
        kind=APPROVAL_KIND,
        subject_id=request.id,
        requester_id=requester_id,
        title=f"Maintenance over {threshold}: {request.title}, estimated {request.estimated_cost}"[:200],
        payload={
            "maintenance_id": str(request.id),
            "title": request.title,
            "priority": request.priority,
            "estimated_cost": str(request.estimated_cost),
            "threshold": str(threshold),
            "asset_id": None if request.asset_id is None else str(request.asset_id),
            "workplace_id": None if request.workplace_id is None else str(request.workplace_id),
        },
        origin=origin,
    )


async def apply_decision(session: AsyncSession, *, request_id: UUID, outcome: Outcome, decided_by: UUID | None) -> None:
    """Move maintenance request ``request_id`` out of ``pending_approval`` by ``outcome``, in the caller's
    transaction; repeating the outcome (or cancelling one the domain cancelled already) changes nothing.

    Raises:
        AppError: ``not_found`` (404); ``not_pending`` (409) when it is no longer waiting for approval.
    """
    request = await session.scalar(
        select(MaintenanceRequest).where(MaintenanceRequest.id == request_id).with_for_update()
    )
    if request is None:
        raise AppError("not_found", "No maintenance request with this id.", status_code=404)
    if request.status != AWAITING:
        if request.status == _ENDS.get(outcome):
            return
        raise AppError(
            "not_pending",
            "This maintenance request no longer waits for approval.",
            status_code=409,
            details={"status": request.status},
        )
    now = utc_now()
    entered = await session.scalar(
        select(MaintenanceStep)
        .where(MaintenanceStep.request_id == request.id, MaintenanceStep.to_status == AWAITING)
        .order_by(MaintenanceStep.at.desc(), MaintenanceStep.id.desc())
        .limit(1)
    )
    previous = entered.from_status if entered is not None else None
    if outcome == "approved":
        request.status = previous or "open"
        if previous is None:
            # A new request's SLA runs from the approval that lets the work start.
            request.due_at, request.breached_at = await due_at(session, request.priority, now), None
    else:
        request.status = _ENDS[outcome]
        request.closed_at = now
    session.add(
        MaintenanceStep(
            tenant_id=request.tenant_id,
            request_id=request.id,
            from_status=AWAITING,
            to_status=request.status,
            note=f"Cost approval {outcome}.",
            actor_id=decided_by,
            at=now,
        )
    )
    await session.flush()
    record(
        session,
        tenant_id=request.tenant_id,
        action=f"maintenance.approval.{outcome}",
        actor_user_id=decided_by,
        origin=Origin(),
        target_type="maintenance_request",
        target_id=request.id,
        details={"estimated_cost": str(request.estimated_cost), "status": request.status},
    )
    told = [u for u in (request.requested_by,) if u is not None]
    if outcome == "approved" and request.assignee_id is not None and previous is None:
        told.append(request.assignee_id)
    if told:
        await notify(
            session,
            tenant_id=request.tenant_id,
            recipients=Recipients(users=list(dict.fromkeys(told))),
            category="task",
            title=f"Maintenance cost {outcome}: {request.title}"[:200],
            body=f"Estimated {request.estimated_cost}; now {request.status.replace('_', ' ')}."
            + (f" Due {request.due_at.isoformat()}." if outcome == "approved" else ""),
            link=f"/maintenance/{request.id}",
            data={"maintenance_id": str(request.id), "outcome": outcome},
            idempotency_key=f"maintenance-approval:{request.id}:{outcome}:{now.isoformat()}",
        )
