"""Notification categories: the built-in ones every tenant gets (seeded lazily) and the lookup by key."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from delivery.errors import NotifyError
from persistence.models import NotificationCategory

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession


class CategoryDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """A built-in category's name, default channels and escalation delays (seconds)."""

    name: str
    email: bool
    push: bool
    push_delay_seconds: int
    email_delay_seconds: int
    critical: bool = False
    locked: bool = False


BUILTIN_CATEGORIES: dict[str, CategoryDefaults] = {
    "mention": CategoryDefaults(name="Mentions", email=True, push=True, push_delay_seconds=30, email_delay_seconds=900),
    "task": CategoryDefaults(name="Tasks", email=True, push=True, push_delay_seconds=60, email_delay_seconds=1800),
    "leave": CategoryDefaults(name="Leave", email=True, push=False, push_delay_seconds=300, email_delay_seconds=600),
    "approval": CategoryDefaults(
        name="Approvals", email=True, push=True, push_delay_seconds=120, email_delay_seconds=1800
    ),
    "shift": CategoryDefaults(name="Shifts", email=True, push=True, push_delay_seconds=60, email_delay_seconds=3600),
    # Safety alerts go everywhere at once, cannot be turned off, and may be critical.
    "safety": CategoryDefaults(
        name="Safety", email=True, push=True, push_delay_seconds=0, email_delay_seconds=0, critical=True, locked=True
    ),
    "report": CategoryDefaults(name="Reports", email=True, push=False, push_delay_seconds=300, email_delay_seconds=600),
    "system": CategoryDefaults(name="System", email=False, push=False, push_delay_seconds=0, email_delay_seconds=0),
}


async def seed_builtin_categories(session: AsyncSession, tenant_id: UUID) -> None:
    """Give the tenant every built-in category it lacks (safe to call concurrently and repeatedly)."""
    rows = [
        {
            "id": uuid7(),
            "tenant_id": tenant_id,
            "key": key,
            "in_app": True,
            "is_builtin": True,
            **msgspec.structs.asdict(defaults),
        }
        for key, defaults in BUILTIN_CATEGORIES.items()
    ]
    await session.execute(insert(NotificationCategory).values(rows).on_conflict_do_nothing())


async def category_by_key(session: AsyncSession, tenant_id: UUID, key: str) -> NotificationCategory:
    """The tenant's category ``key``, seeding the built-in ones on first use.

    Raises:
        NotifyError: ``unknown_category`` when the tenant has no such category.
    """
    statement = select(NotificationCategory).where(NotificationCategory.key == key)
    category = await session.scalar(statement)
    if category is None and key in BUILTIN_CATEGORIES:
        await seed_builtin_categories(session, tenant_id)
        category = await session.scalar(statement)
    if category is None:
        raise NotifyError("unknown_category", f"No notification category {key!r}.", details={"category": key})
    return category
