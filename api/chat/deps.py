"""Chat's per-request pieces: the caller's ``Conversations`` and applying a change's effects after commit."""

from __future__ import annotations

from litestar.di import NamedDependency, Provide

from api.deps import CallerDep, DbSession, ReadSession, RuntimeDep
from api.runtime import Runtime
from channels.conversations import Conversations
from channels.effects import Effects
from channels.writer import SendWriter


def provide_conversations(db_session: DbSession, current_user: CallerDep) -> Conversations:
    return Conversations(
        session=db_session, tenant_id=current_user.tenant_id, user_id=current_user.id, effects=Effects()
    )


def provide_read_conversations(read_session: ReadSession, current_user: CallerDep) -> Conversations:
    """The caller's conversations on a read-only session that may be the replica's (history, search)."""
    return Conversations(
        session=read_session, tenant_id=current_user.tenant_id, user_id=current_user.id, effects=Effects()
    )


async def commit_and_publish(runtime: Runtime, conversations: Conversations) -> None:
    """Commit the request's change, then publish its events and move subscriptions (never before)."""
    await conversations.session.commit()
    await runtime.recent_writes.mark(conversations.tenant_id, conversations.user_id)
    if runtime.hub is not None:
        await conversations.effects.apply(runtime.hub)


def provide_sends(runtime: RuntimeDep) -> SendWriter:
    """The node's group-commit writer of sends, shared with the WebSocket (set up by ``create_app``)."""
    if runtime.chat_sends is None:
        raise RuntimeError("chat sends need the serving app's writer (create_app sets runtime.chat_sends)")
    return runtime.chat_sends


ConversationsDep = NamedDependency[Conversations]
SendsDep = NamedDependency[SendWriter]
dependencies = {
    "conversations": Provide(provide_conversations, sync_to_thread=False),
    "read_conversations": Provide(provide_read_conversations, sync_to_thread=False),
    "sends": Provide(provide_sends, sync_to_thread=False),
}
