"""Moderation's per-request context: the caller, the request's transaction, its audit origin, and
publishing the queue's events after commit."""

from __future__ import annotations

from typing import Any

from litestar.di import NamedDependency, Provide

from api.audit import record
from api.deps import CallerDep, DbSession, OriginDep
from api.runtime import Runtime
from channels.effects import Effects
from channels.moderation.cases import ModerationContext


def provide_moderation(db_session: DbSession, current_user: CallerDep, origin: OriginDep) -> ModerationContext:
    def audit(action: str, *, target_type: str, target_id: Any, details: dict[str, Any]) -> None:
        record(
            db_session,
            tenant_id=current_user.tenant_id,
            action=action,
            actor_user_id=current_user.id,
            origin=origin,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )

    return ModerationContext(
        session=db_session, tenant_id=current_user.tenant_id, actor_id=current_user.id, effects=Effects(), audit=audit
    )


async def commit_and_publish(runtime: Runtime, ctx: ModerationContext) -> None:
    """Commit, then publish the change's chat and queue events (never before: it might roll back)."""
    await ctx.session.commit()
    if runtime.hub is not None:
        await ctx.effects.apply(runtime.hub)


ModerationDep = NamedDependency[ModerationContext]
dependencies = {"moderation": Provide(provide_moderation, sync_to_thread=False)}
