"""Inbox state changes (seen, read, archived, back to unread) for one, many or all of a user's notifications.

Reading or archiving cancels the push and email still waiting, and a push already shown is replaced
by a dismissal with the same ``Topic``. Every other device hears of the change through the inbox topic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from sqlalchemy import and_, case, select, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB

from delivery.inbox import append_event
from delivery.outbox import DISMISS_JOB, EMAIL_NOTIFICATION_JOB, PUSH_JOB, NotificationJob, job_key
from persistence.jobs import enqueue
from persistence.models import Job, Notification, NotificationDelivery

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

TargetState = Literal["unread", "seen", "read", "archived"]
_RANK = {"unread": 0, "seen": 1, "read": 2, "archived": 3}


async def change_state(
    session: AsyncSession, *, tenant_id: UUID, user_id: UUID, state: TargetState, ids: list[UUID] | None
) -> list[UUID]:
    """Move the user's notifications ``ids`` (``None``: all of them) to ``state``.

    ``seen``, ``read`` and ``archived`` only move forward (marking a read notification seen changes
    nothing); ``unread`` brings any back. Ids of other users or tenants are ignored (not visible).

    Returns:
        The ids whose state changed, in id order.
    """
    now = datetime.now(UTC)
    conditions: list[Any] = [Notification.user_id == user_id]
    if ids is not None:
        conditions.append(Notification.id.in_(ids))
    if state == "unread":
        conditions.append(Notification.state != "unread")
    else:
        earlier = [s for s, rank in _RANK.items() if rank < _RANK[state]]
        conditions.append(Notification.state.in_(earlier))
    values: dict[str, Any] = {"state": state, "updated_at": now}
    if state == "seen":
        values["seen_at"] = now
    elif state == "read":
        values["read_at"] = now
        values["seen_at"] = case((Notification.seen_at.is_(None), now), else_=Notification.seen_at)
    elif state == "archived":
        values["archived_at"] = now
    changed = list(
        (
            await session.scalars(
                update(Notification).where(and_(*conditions)).values(**values).returning(Notification.id)
            )
        ).all()
    )
    if not changed:
        return []
    changed.sort()
    if state in ("read", "archived"):
        await _cancel_pending(session, tenant_id=tenant_id, ids=changed, now=now)
    body: dict[str, Any] = {"kind": "notification.state", "state": state}
    if ids is None and len(changed) > 200:
        body["all"] = True
    else:
        body["ids"] = [str(i) for i in changed]
    await append_event(session, tenant_id=tenant_id, user_id=user_id, body=body)
    return changed


async def _cancel_pending(session: AsyncSession, *, tenant_id: UUID, ids: list[UUID], now: datetime) -> None:
    entry = [{"at": now.isoformat(), "status": "skipped", "reason": "read"}]
    await session.execute(
        update(NotificationDelivery)
        .where(
            NotificationDelivery.notification_id.in_(ids),
            NotificationDelivery.channel.in_(("push", "email")),
            NotificationDelivery.status == "queued",
        )
        .values(
            status="skipped",
            reason="read",
            updated_at=now,
            log=NotificationDelivery.log.op("||")(type_coerce(entry, JSONB)),
        )
    )
    keys = [job_key(kind, i) for i in ids for kind in (PUSH_JOB, EMAIL_NOTIFICATION_JOB)]
    # Their handlers would skip them anyway; finishing them here saves the claims.
    await session.execute(
        update(Job)
        .where(Job.kind.in_((PUSH_JOB, EMAIL_NOTIFICATION_JOB)), Job.idempotency_key.in_(keys), Job.status == "queued")
        .values(status="done", finished_at=now, last_error="cancelled: read", updated_at=now)
    )
    shown = await session.scalars(
        select(NotificationDelivery.notification_id).where(
            NotificationDelivery.notification_id.in_(ids),
            NotificationDelivery.channel == "push",
            NotificationDelivery.status == "sent",
        )
    )
    for notification_id in shown.all():
        await enqueue(
            session,
            tenant_id=tenant_id,
            kind=DISMISS_JOB,
            payload=msgspec.to_builtins(NotificationJob(notification_id=notification_id)),
            idempotency_key=job_key(DISMISS_JOB, notification_id),
        )


__all__ = ["TargetState", "change_state"]
