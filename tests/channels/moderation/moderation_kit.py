"""Arranging moderation in tests: a moderation context as one user, committed on exit."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.moderation.cases import ModerationContext, direct_auditor
from tests.kit import TenantKit

T = TypeVar("T")


async def as_moderation(
    runtime: Runtime, tenant: TenantKit, role: str, change: Callable[[ModerationContext, Conversations], Awaitable[T]]
) -> T:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        user_id = tenant.users[role]
        effects = Effects()
        ctx = ModerationContext(
            session=session,
            tenant_id=tenant.id,
            actor_id=user_id,
            effects=effects,
            audit=direct_auditor(session, tenant_id=tenant.id, actor_id=user_id),
        )
        conversations = Conversations(session=session, tenant_id=tenant.id, user_id=user_id, effects=effects)
        return await change(ctx, conversations)
