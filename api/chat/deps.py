"""Chat's per-request pieces: the caller's ``Conversations`` and applying a change's effects after commit."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from api.deps import CallerDep, DbSession, RuntimeDep
from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.notifications import MentionNotifier


def provide_conversations(db_session: DbSession, current_user: CallerDep) -> Conversations:
    return Conversations(
        session=db_session, tenant_id=current_user.tenant_id, user_id=current_user.id, effects=Effects()
    )


async def commit_and_publish(runtime: Runtime, conversations: Conversations) -> None:
    """Commit the request's change, then publish its events and move subscriptions (never before)."""
    await conversations.session.commit()
    if runtime.hub is not None:
        await conversations.effects.apply(runtime.hub)


def provide_notifier(runtime: RuntimeDep) -> MentionNotifier:
    return MentionNotifier(redis=runtime.redis, hub=runtime.hub)


ConversationsDep = NamedDependency[Conversations]
NotifierDep = NamedDependency[MentionNotifier]
dependencies = {
    "conversations": Provide(provide_conversations, sync_to_thread=False),
    "notifier": Provide(provide_notifier, sync_to_thread=False),
}
