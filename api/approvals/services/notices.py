"""What approvals tell people, in the caller's transaction: approvers (and whoever stands in for them) that a
request waits on them, with Approve and Reject actions of their own; requesters how their request ended."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from api.approvals.services.approvers import delegates_of
from api.approvals.services.links import issue_actions
from delivery.notify import Recipients, notify

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.models import ApprovalRequest

CATEGORY = "approval"
Reason = Literal["new", "reminder", "escalation"]
_TITLES: dict[Reason, str] = {
    "new": "Approval needed",
    "reminder": "Reminder: approval needed",
    "escalation": "Escalated: approval needed",
}
_OUTCOMES = {
    "approved": "Approved",
    "rejected": "Rejected",
    "changes_requested": "Changes requested",
    "cancelled": "Cancelled",
    "expired": "Expired",
}


def request_link(request: ApprovalRequest) -> str:
    return f"/approvals/{request.id}"


async def ask(
    session: AsyncSession, request: ApprovalRequest, approver_ids: Iterable[UUID], *, reason: Reason, now: datetime
) -> list[UUID]:
    """Notify ``approver_ids`` and their delegates of the moment that ``request`` waits on them.

    Returns:
        Everyone notified, sorted.
    """
    approvers = sorted(set(approver_ids))
    people = sorted(set(approvers) | set(await delegates_of(session, approvers, now)))
    step = request.steps[request.current_step]
    for user_id in people:
        actions = await issue_actions(
            session,
            tenant_id=request.tenant_id,
            request_id=request.id,
            user_id=user_id,
            now=now,
            until=request.expires_at,
        )
        await notify(
            session,
            tenant_id=request.tenant_id,
            recipients=Recipients(users=[user_id]),
            category=CATEGORY,
            title=f"{_TITLES[reason]}: {request.title}"[:200],
            body=f"Step {request.current_step + 1} of {len(request.steps)} ({step['name']}). Expires {request.expires_at:%Y-%m-%d %H:%M} UTC.",
            priority="high" if reason == "escalation" else "normal",
            link=request_link(request),
            actions=actions,
            data={"approval_request_id": str(request.id), "reason": reason, "kind": request.kind},
            idempotency_key=f"approval:{request.id}:v{request.version}:{reason}:{user_id}",
        )
    return people


async def tell_requester(session: AsyncSession, request: ApprovalRequest, comment: str = "") -> None:
    """Tell the requester their request's new status (approved, rejected, changes requested, ...)."""
    await notify(
        session,
        tenant_id=request.tenant_id,
        recipients=Recipients(users=[request.requester_id]),
        category=CATEGORY,
        title=f"{_OUTCOMES[request.status]}: {request.title}"[:200],
        body=comment[:4000],
        link=request_link(request),
        data={"approval_request_id": str(request.id), "status": request.status, "kind": request.kind},
        idempotency_key=f"approval:{request.id}:v{request.version}:{request.status}",
    )
