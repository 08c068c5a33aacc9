"""Messages: sending one (see ``channels.batch``), edits with history, tombstone deletes, pins and reactions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from uuid_utils.compat import uuid7

from channels.attachments import release_message_files
from channels.batch import MAX_BODY, SendRequest, members_among, store_sends
from channels.errors import ChatError
from channels.events import append_event
from channels.reactions import reaction_counts
from channels.text import check_body, is_emoji, links_of, parse_mentions
from channels.views import MessageView, ReactionChange
from persistence.models import Conversation, ConversationEvent, Message, MessageEdit, Reaction

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.conversations import Conversations
    from channels.effects import Effects
    from channels.notifications import MentionNotifier


class Messages:
    """Message rules for one user, inside the caller's transaction (shares its ``Conversations``)."""

    def __init__(
        self, *, conversations: Conversations, notifier: MentionNotifier | None = None, max_body: int = MAX_BODY
    ) -> None:
        self.conversations = conversations
        self.notifier = notifier
        self.session = conversations.session
        self.tenant_id = conversations.tenant_id
        self.user_id = conversations.user_id
        self.effects = conversations.effects
        self.max_body = max_body

    async def send(
        self,
        conversation_id: UUID,
        *,
        body: str,
        client_id: str,
        thread_root_id: UUID | None = None,
        attachment_ids: Iterable[UUID] = (),
    ) -> tuple[MessageView, bool]:
        """Store a message and its event; a retry with the same ``client_id`` returns the original.

        The same path as a batch of sends (:func:`channels.batch.store_sends`), with one message.

        Returns:
            The message, and whether it was created now (``False``: an earlier send with this
            ``client_id`` already stored it, and nothing is sent again).

        Raises:
            ChatError: the message is refused; nothing of it was written.
        """
        request = SendRequest(
            author_id=self.user_id,
            body=body,
            client_id=client_id,
            thread_root_id=thread_root_id,
            attachment_ids=tuple(attachment_ids),
        )
        (outcome,) = await store_sends(
            self.session,
            tenant_id=self.tenant_id,
            conversation_id=conversation_id,
            requests=[request],
            effects=self.effects,
            notifier=self.notifier,
            max_body=self.max_body,
        )
        if isinstance(outcome, ChatError):
            raise outcome
        return outcome.message, outcome.created

    async def edit(self, message_id: UUID, body: str) -> MessageView:
        """Change the text of one's own message; the previous text is kept in its edit history."""
        message, conversation = await self._writable_message(message_id)
        if message.author_id != self.user_id:
            raise ChatError("forbidden", "Only the author edits a message.")
        body = body.strip()
        self._check_body(body, allow_empty=bool(message.attachment_ids))
        if body == message.body:
            return await self.view(message)
        now = datetime.now(UTC)
        self.session.add(
            MessageEdit(
                tenant_id=self.tenant_id,
                message_id=message.id,
                editor_id=self.user_id,
                previous_body=message.body,
                edited_at=now,
            )
        )
        mentions = parse_mentions(body)
        message.body = body
        message.edited_at = now
        message.links = links_of(body)
        message.mentions = await self._members_among(message.conversation_id, mentions.users)
        message.mention_here = mentions.here
        message.mention_channel = mentions.channel
        await self.session.flush()
        view = await self.view(message)
        self.effects.publish(
            await append_event(self.session, conversation, kind="message.edited", actor_id=self.user_id, message=view)
        )
        return view

    async def delete(self, message_id: UUID) -> MessageView:
        """The author deletes their message: its content is gone, a tombstone keeps its place. (A
        moderator deletes someone else's with a reason, through ``Enforcement.delete_message``.)"""
        message, conversation = await self._writable_message(message_id)
        if message.author_id != self.user_id:
            raise ChatError("forbidden", "Only the author deletes a message; a moderator deletes it with a reason.")
        return await erase_message(self.session, self.effects, conversation, message, actor_id=self.user_id)

    async def set_pinned(self, message_id: UUID, pinned: bool) -> MessageView:
        message, conversation = await self._writable_message(message_id)
        if (message.pinned_at is not None) == pinned:
            return await self.view(message)
        message.pinned_at = datetime.now(UTC) if pinned else None
        message.pinned_by = self.user_id if pinned else None
        await self.session.flush()
        view = await self.view(message)
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind="message.pinned" if pinned else "message.unpinned",
                actor_id=self.user_id,
                message=view,
            )
        )
        return view

    async def react(self, message_id: UUID, emoji: str, *, add: bool) -> bool:
        """Add or remove the user's ``emoji`` on a message. Returns whether anything changed."""
        if not is_emoji(emoji):
            raise ChatError("invalid_emoji", "A reaction is one emoji.")
        message, conversation = await self._writable_message(message_id)
        if add:
            changed = await self.session.scalar(
                insert(Reaction)
                .values(
                    id=uuid7(),
                    tenant_id=self.tenant_id,
                    message_id=message.id,
                    user_id=self.user_id,
                    emoji=emoji,
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["message_id", "user_id", "emoji"])
                .returning(Reaction.id)
            )
        else:
            changed = await self.session.scalar(
                delete(Reaction)
                .where(Reaction.message_id == message.id, Reaction.user_id == self.user_id, Reaction.emoji == emoji)
                .returning(Reaction.id)
            )
        if changed is None:
            return False
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind="reaction.added" if add else "reaction.removed",
                actor_id=self.user_id,
                reaction=ReactionChange(message_id=message.id, emoji=emoji, user_id=self.user_id),
            )
        )
        return True

    # -- reading helpers -------------------------------------------------------------------------

    async def view(self, message: Message) -> MessageView:
        return MessageView.of(message, (await reaction_counts(self.session, [message.id])).get(message.id))

    async def view_by_id(self, message_id: UUID) -> MessageView:
        return await self.view(await self._readable_message(message_id))

    async def edits(self, message_id: UUID) -> list[MessageEdit]:
        message = await self._readable_message(message_id)
        rows = await self.session.scalars(
            select(MessageEdit).where(MessageEdit.message_id == message.id).order_by(MessageEdit.edited_at)
        )
        return list(rows)

    async def _readable_message(self, message_id: UUID) -> Message:
        message = await self.session.get(Message, message_id)
        if message is None:
            raise ChatError("not_found", "No such message.")
        await self.conversations.visible(message.conversation_id)
        return message

    async def _writable_message(self, message_id: UUID) -> tuple[Message, Conversation]:
        message = await self.session.get(Message, message_id)
        if message is None:
            raise ChatError("not_found", "No such message.")
        conversation, _ = await self.conversations.membership(message.conversation_id, lock=True)
        if conversation.archived_at is not None:
            raise ChatError("archived", "The conversation is archived.")
        if message.deleted_at is not None:
            raise ChatError("not_found", "The message was deleted.")
        return message, conversation

    def _check_body(self, body: str, *, allow_empty: bool) -> None:
        check_body(body, allow_empty=allow_empty, max_body=self.max_body)

    async def _members_among(self, conversation_id: UUID, user_ids: list[UUID]) -> list[UUID]:
        """The mentioned users who are members, in mention order (mentioning others notifies no one)."""
        found = await members_among(self.session, conversation_id, user_ids)
        return [u for u in user_ids if u in found]


async def erase_message(
    session: AsyncSession, effects: Effects, conversation: Conversation, message: Message, *, actor_id: UUID
) -> MessageView:
    """Delete a message for good (its conversation locked by the caller): a tombstone keeps its place."""
    message.deleted_at = datetime.now(UTC)
    message.body = ""
    message.mentions = []
    message.links = []
    await session.execute(delete(Reaction).where(Reaction.message_id == message.id))
    await session.execute(delete(MessageEdit).where(MessageEdit.message_id == message.id))
    await release_message_files(session, tenant_id=message.tenant_id, message_ids=[message.id])
    await session.flush()
    view = MessageView.of(message)
    # Replay must not bring the content back: earlier events of this message now carry the tombstone.
    await session.execute(
        update(ConversationEvent)
        .where(ConversationEvent.message_id == message.id, ConversationEvent.kind.like("message.%"))
        .values(
            payload=func.jsonb_set(
                ConversationEvent.payload, literal_column("'{message}'"), literal(msgspec.to_builtins(view), JSONB)
            )
        )
    )
    effects.publish(await append_event(session, conversation, kind="message.deleted", actor_id=actor_id, message=view))
    return view
