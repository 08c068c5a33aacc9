"""Messages: idempotent send, thread replies, edits with history, tombstone deletes, pins and reactions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import delete, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from uuid_utils.compat import uuid7

from channels.attachments import FileError, claim_attachments, release_message_files
from channels.conversations import count_members
from channels.errors import ChatError
from channels.events import allocate_seq, append_event
from channels.moderation.screening import after_store, screen
from channels.moderation.views import redacted
from channels.text import find_links, is_emoji, parse_mentions
from channels.views import MessageView, ReactionChange, ReactionCount
from persistence.models import (
    Conversation,
    ConversationEvent,
    ConversationMember,
    Message,
    MessageEdit,
    Reaction,
    ThreadFollow,
)

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from channels.conversations import Conversations
    from channels.effects import Effects
    from channels.notifications import MentionNotifier

MAX_BODY = 4_000
MAX_CLIENT_ID = 64
# In a channel larger than this, only its owners and admins may notify everyone with @channel.
LARGE_CHANNEL = 50


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

        Returns:
            The message, and whether it was created now (``False``: an earlier send with this
            ``client_id`` already stored it, and nothing is sent again).
        """
        body = body.strip()
        if not 1 <= len(client_id) <= MAX_CLIENT_ID:
            raise ChatError("invalid_message", f"client_id must be 1 to {MAX_CLIENT_ID} characters.")
        conversation, member = await self.conversations.membership(conversation_id, lock=True)
        # The lock serialises this conversation's writers, so checking for a retry here is race-free.
        earlier = await self.session.scalar(
            select(Message).where(
                Message.conversation_id == conversation_id,
                Message.author_id == self.user_id,
                Message.client_id == client_id,
            )
        )
        if earlier is not None:
            return await self.view(earlier), False
        attachments = list(dict.fromkeys(attachment_ids))
        self._check_body(body, allow_empty=bool(attachments))
        if conversation.archived_at is not None:
            raise ChatError("archived", "The conversation is archived.")
        root = await self._thread_root(conversation_id, thread_root_id) if thread_root_id else None
        # Mutes and the tenant's rules: may refuse, mask the text, or hold the message for review.
        original_body = body
        screening = await screen(
            self.session,
            tenant_id=self.tenant_id,
            author_id=self.user_id,
            conversation=conversation,
            body=body,
            attachment_ids=attachments,
        )
        body = screening.body
        mentions = parse_mentions(body)
        mentioned = await self._members_among(conversation_id, mentions.users)
        if (
            mentions.channel
            and member.role not in ("owner", "admin")
            and await count_members(self.session, conversation_id) > LARGE_CHANNEL
        ):
            raise ChatError("mention_not_allowed", "Only the channel's owners and admins may use @channel here.")
        seq = await allocate_seq(self.session, conversation)
        now = datetime.now(UTC)
        message = Message(
            tenant_id=self.tenant_id,
            conversation_id=conversation_id,
            seq=seq,
            author_id=self.user_id,
            client_id=client_id,
            body=body,
            thread_root_id=root.id if root else None,
            mentions=mentioned,
            mention_here=mentions.here,
            mention_channel=mentions.channel,
            links=find_links(body),
            attachment_ids=attachments,
            created_at=now,
            updated_at=now,
        )
        self.session.add(message)
        await self.session.flush()
        if attachments:
            try:
                await claim_attachments(
                    self.session,
                    tenant_id=self.tenant_id,
                    uploader_id=self.user_id,
                    conversation_id=conversation_id,
                    message_id=message.id,
                    attachment_ids=attachments,
                )
            except FileError as refusal:
                raise ChatError("invalid_attachment", refusal.message) from None
        conversation.last_message_at = now
        if root is not None:
            await self._count_reply(root, message)
        # The sender has read their own message.
        member.last_read_seq = seq
        view = MessageView.of(message)
        await after_store(self.session, self.effects, message, screening, original_body=original_body)
        if screening.hold:
            # Others get the event's place in the sequence, not its content; the author gets it whole.
            view = msgspec.structs.replace(view, moderation="held")
        self.effects.publish(
            await append_event(
                self.session,
                conversation,
                kind="message.created",
                actor_id=self.user_id,
                seq=seq,
                message=redacted(view, "held") if screening.hold else view,
            )
        )
        if self.notifier is not None and not screening.hold:
            await self.notifier.message_sent(self.session, conversation, view)
        return view, True

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
        message.links = find_links(body)
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
        if not body and not allow_empty:
            raise ChatError("invalid_message", "A message needs text or a file.")
        if len(body) > self.max_body:
            raise ChatError("message_too_long", f"A message has at most {self.max_body} characters.")

    async def _thread_root(self, conversation_id: UUID, root_id: UUID) -> Message:
        root = await self.session.get(Message, root_id, with_for_update=True)
        # A root from another conversation is refused as if it did not exist.
        if root is None or root.conversation_id != conversation_id or root.deleted_at is not None:
            raise ChatError("invalid_thread", "No such thread in this conversation.")
        if root.thread_root_id is not None:
            raise ChatError("invalid_thread", "Reply to the thread's first message.")
        return root

    async def _count_reply(self, root: Message, reply: Message) -> None:
        root.reply_count += 1
        root.last_reply_at = reply.created_at
        root.last_reply_seq = reply.seq
        participants = list(root.thread_participants or [])
        if reply.author_id is not None and reply.author_id not in participants:
            participants.append(reply.author_id)
        root.thread_participants = participants
        for user_id in {root.author_id, reply.author_id} - {None}:
            await self.session.execute(
                insert(ThreadFollow)
                .values(
                    id=uuid7(),
                    tenant_id=self.tenant_id,
                    root_id=root.id,
                    user_id=user_id,
                    conversation_id=root.conversation_id,
                    last_read_seq=reply.seq if user_id == reply.author_id else 0,
                )
                .on_conflict_do_update(
                    index_elements=["root_id", "user_id"],
                    set_={"last_read_seq": reply.seq} if user_id == reply.author_id else {"root_id": root.id},
                )
            )

    async def _members_among(self, conversation_id: UUID, user_ids: list[UUID]) -> list[UUID]:
        """The mentioned users who are members, in mention order (mentioning others notifies no one)."""
        if not user_ids:
            return []
        found = set(
            await self.session.scalars(
                select(ConversationMember.user_id).where(
                    ConversationMember.conversation_id == conversation_id, ConversationMember.user_id.in_(user_ids)
                )
            )
        )
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
