"""Reactions as views show them: per message, each emoji with its count and who reacted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, select

from channels.views import ReactionCount
from persistence.models import Reaction

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession


async def reaction_counts(session: AsyncSession, message_ids: list[UUID]) -> dict[UUID, list[ReactionCount]]:
    """Per message, each emoji with its count and who reacted, in order of first use."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(Reaction.message_id, Reaction.emoji, func.array_agg(Reaction.user_id), func.min(Reaction.created_at))
        .where(Reaction.message_id.in_(message_ids))
        .group_by(Reaction.message_id, Reaction.emoji)
        .order_by(func.min(Reaction.created_at))
    )
    counts: dict[UUID, list[ReactionCount]] = {}
    for message_id, emoji, users, _ in rows:
        counts.setdefault(message_id, []).append(ReactionCount(emoji=emoji, count=len(users), users=list(users)))
    return counts
