"""Push subscriptions of a user: save (validated, one row per endpoint) and forget."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from delivery.push import SubscriptionInfo, check_subscription
from persistence.models import PushSubscription

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession


async def save_subscription(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    user_id: UUID,
    info: SubscriptionInfo,
    user_agent: str | None = None,
    allow_insecure: bool = False,
) -> UUID:
    """Store ``info`` for the user; a known endpoint is taken over with its new keys (a re-subscribe).

    Raises:
        NotifyError: ``invalid_subscription`` (see :func:`delivery.push.check_subscription`).
    """
    check_subscription(info, allow_insecure=allow_insecure)
    now = datetime.now(UTC)
    values = {
        "user_id": user_id,
        "p256dh": info.keys.p256dh,
        "auth": info.keys.auth,
        "user_agent": (user_agent or "")[:512] or None,
        "updated_at": now,
    }
    subscription_id = await session.scalar(
        insert(PushSubscription)
        .values(id=uuid7(), tenant_id=tenant_id, endpoint=info.endpoint, created_at=now, **values)
        .on_conflict_do_update(index_elements=["tenant_id", "endpoint"], set_=values)
        .returning(PushSubscription.id)
    )
    assert subscription_id is not None
    return subscription_id


async def forget_subscription(session: AsyncSession, *, user_id: UUID, endpoint: str) -> bool:
    """Delete the user's subscription at ``endpoint``; whether there was one."""
    result = await session.execute(
        delete(PushSubscription)
        .where(PushSubscription.user_id == user_id, PushSubscription.endpoint == endpoint)
        .returning(PushSubscription.id)
    )
    return result.first() is not None
