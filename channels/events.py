"""The conversation event log: each durable event takes the conversation's next ``seq`` in the storing transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import select, update

from channels.errors import ChatError
from channels.views import ChatEvent, EventKind
from persistence.models import Conversation, ConversationEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.views import ConversationView, MemberView, MessageView, ReactionChange


def conversation_topic(tenant_id: UUID, conversation_id: UUID) -> str:
    """The hub topic of a conversation: ``t:<tenant>:conv:<id>``."""
    return f"t:{tenant_id}:conv:{conversation_id}"


class Outgoing(msgspec.Struct, frozen=True):
    """An event to publish once its transaction has committed (never before: it might roll back)."""

    topic: str
    seq: int | None
    payload: bytes


async def lock_conversation(session: AsyncSession, conversation_id: UUID) -> Conversation:
    """Lock the conversation row for this transaction: its events are numbered one writer at a time.

    Raises:
        ChatError: ``not_found`` when it does not exist in this tenant.
    """
    conversation = await session.scalar(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    )
    if conversation is None:
        raise ChatError("not_found", "No such conversation.")
    return conversation


async def allocate_seq(session: AsyncSession, conversation: Conversation) -> int:
    """Take the conversation's next ``seq``; the caller records the event with it in this transaction.

    The increment shares the caller's transaction with the event row, so a rollback takes both
    back: the sequence never has a gap.
    """
    seq = await session.scalar(
        update(Conversation)
        .where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1)
        .returning(Conversation.last_seq)
    )
    assert seq is not None
    conversation.last_seq = seq
    return seq


async def append_event(
    session: AsyncSession,
    conversation: Conversation,
    *,
    kind: EventKind,
    actor_id: UUID | None,
    seq: int | None = None,
    message: MessageView | None = None,
    member: MemberView | None = None,
    removed_user_id: UUID | None = None,
    reaction: ReactionChange | None = None,
    view: ConversationView | None = None,
) -> Outgoing:
    """Store an event of ``conversation`` (at ``seq``, or the next one) and return it ready to
    publish after commit."""
    if seq is None:
        seq = await allocate_seq(session, conversation)
    now = datetime.now(UTC)
    event = ChatEvent(
        kind=kind,
        conversation_id=conversation.id,
        seq=seq,
        actor_id=actor_id,
        at=now,
        message=message,
        member=member,
        removed_user_id=removed_user_id,
        reaction=reaction,
        conversation=view,
    )
    outgoing = outgoing_event(conversation.tenant_id, event)
    session.add(
        ConversationEvent(
            tenant_id=conversation.tenant_id,
            conversation_id=conversation.id,
            seq=seq,
            kind=kind,
            actor_id=actor_id,
            message_id=message.id if message is not None else (reaction.message_id if reaction else None),
            payload=msgspec.json.decode(outgoing.payload),
            created_at=now,
        )
    )
    return outgoing


def outgoing_event(tenant_id: UUID, event: ChatEvent) -> Outgoing:
    """The event encoded once, as it is published live and stored for replay."""
    return Outgoing(
        topic=conversation_topic(tenant_id, event.conversation_id), seq=event.seq, payload=msgspec.json.encode(event)
    )
