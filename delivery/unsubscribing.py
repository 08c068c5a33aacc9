"""Act on a verified unsubscribe link: the user's email for that category is turned off."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.models import NotificationCategory, NotificationPreference, User

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.unsubscribe import UnsubscribeTarget


async def unsubscribe_email(session: AsyncSession, target: UnsubscribeTarget) -> bool:
    """Set the user's email preference for the category to off (the session runs as the target's tenant).

    Returns:
        False when the user or category no longer exists (nothing to do).
    """
    category_id = await session.scalar(
        select(NotificationCategory.id).where(NotificationCategory.key == target.category)
    )
    user_exists = await session.scalar(select(User.id).where(User.id == target.user_id))
    if category_id is None or user_exists is None:
        return False
    now = datetime.now(UTC)
    await session.execute(
        insert(NotificationPreference)
        .values(
            id=uuid7(),
            tenant_id=target.tenant_id,
            user_id=target.user_id,
            category_id=category_id,
            channel="email",
            enabled=False,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["user_id", "category_id", "channel"], set_={"enabled": False, "updated_at": now}
        )
    )
    return True
