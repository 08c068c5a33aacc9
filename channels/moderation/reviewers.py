"""Who reviews: users whose roles hold the review permission (read from their roles, as the API does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import any_, literal, select

from persistence.models import Role, UserRole

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

# The value of ``api.auth.permissions.Permission.MODERATION_REVIEW``; chat may not import the API.
REVIEW_PERMISSION = "moderation:review"


async def may_review(session: AsyncSession, user_id: UUID) -> bool:
    found = await session.scalar(
        select(UserRole.id)
        .join(Role, Role.id == UserRole.role_id)
        .where(UserRole.user_id == user_id, literal(REVIEW_PERMISSION) == any_(Role.permissions))
        .limit(1)
    )
    return found is not None
