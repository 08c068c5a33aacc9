"""Held and hidden messages: who may see their content, and the events that tell clients when that changes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, cast

import msgspec
from sqlalchemy import delete, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB

from channels.events import append_event, lock_conversation
from channels.moderation.views import redacted
from channels.views import MessageView
from persistence.models import ConversationEvent, Message, MessageModeration

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.effects import Effects

State = Literal["held", "hidden"]


async def states_of(session: AsyncSession, message_ids: list[UUID]) -> dict[UUID, State]:
    """The held or hidden ones among ``message_ids``."""
    if not message_ids:
        return {}
    rows = await session.execute(
        select(MessageModeration.message_id, MessageModeration.state).where(
            MessageModeration.message_id.in_(message_ids)
        )
    )
    return {message_id: cast("State", state) for message_id, state in rows.tuples()}


def as_seen_by(view: MessageView, state: State | None, viewer_id: UUID) -> MessageView:
    """The message as ``viewer_id`` sees it: whole for its author, otherwise only its place (the
    same placeholder the event log holds, so history and replay agree)."""
    if state is None:
        return view
    if view.author_id == viewer_id:
        return msgspec.structs.replace(view, moderation=state)
    return redacted(view, state)


async def set_state(
    session: AsyncSession, effects: Effects, message: Message, state: State | None, *, actor_id: UUID
) -> MessageView:
    """Hold, hide, or release (``None``) a message: rewrite its earlier events so replay agrees,
    then append a ``message.moderated`` event with what everyone may now see."""
    conversation = await lock_conversation(session, message.conversation_id)
    await session.execute(delete(MessageModeration).where(MessageModeration.message_id == message.id))
    if state is not None:
        session.add(
            MessageModeration(
                tenant_id=message.tenant_id, message_id=message.id, conversation_id=message.conversation_id, state=state
            )
        )
    await session.flush()
    view = MessageView.of(message)
    public = view if state is None else redacted(view, state)
    await session.execute(
        update(ConversationEvent)
        .where(ConversationEvent.message_id == message.id, ConversationEvent.kind.like("message.%"))
        .values(
            payload=func.jsonb_set(
                ConversationEvent.payload, literal_column("'{message}'"), literal(msgspec.to_builtins(public), JSONB)
            )
        )
    )
    effects.publish(
        await append_event(session, conversation, kind="message.moderated", actor_id=actor_id, message=public)
    )
    return public
