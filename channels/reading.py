"""Read state: read positions, unread and mention counts per conversation and thread, read receipts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

import msgspec
from sqlalchemy import and_, func, or_, select, update

from channels.errors import ChatError
from channels.events import Outgoing, conversation_topic
from channels.views import ReadReceipt, View
from persistence.models import Conversation, ConversationMember, Message, ThreadFollow

if TYPE_CHECKING:
    from sqlalchemy import Subquery

    from channels.conversations import Conversations


class Unread(View, kw_only=True):
    conversation_id: UUID
    unread: int
    mentions: int
    last_read_seq: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """A conversation of the user, the user's membership, and what is unread in it, from one snapshot."""

    conversation: Conversation
    member: ConversationMember
    unread: int
    mentions: int


class ThreadUnread(View, kw_only=True):
    root_id: UUID
    conversation_id: UUID
    unread: int


class ReadState:
    """Where one user has read to, and what is left unread."""

    def __init__(self, *, conversations: Conversations) -> None:
        self.conversations = conversations
        self.session = conversations.session
        self.user_id = conversations.user_id

    async def mark_read(self, conversation_id: UUID, seq: int) -> int:
        """Move the read position forward to ``seq`` (never back, never past the last event).

        Direct and group conversations tell their other members at once (a read receipt).
        """
        conversation, member = await self.conversations.membership(conversation_id)
        position = max(member.last_read_seq, min(seq, conversation.last_seq))
        if position != member.last_read_seq:
            member.last_read_seq = position
            if conversation.kind in ("direct", "group"):
                receipt = ReadReceipt(conversation_id=conversation_id, user_id=self.user_id, seq=position)
                self.conversations.effects.publish(
                    Outgoing(
                        topic=conversation_topic(conversation.tenant_id, conversation_id),
                        seq=None,
                        payload=msgspec.json.encode(receipt),
                    )
                )
        return position

    async def mark_thread_read(self, root_id: UUID, seq: int) -> int:
        follow = await self.session.scalar(
            select(ThreadFollow).where(ThreadFollow.root_id == root_id, ThreadFollow.user_id == self.user_id)
        )
        if follow is None:
            raise ChatError("not_found", "You do not follow that thread.")
        await self.conversations.membership(follow.conversation_id)
        follow.last_read_seq = max(follow.last_read_seq, seq)
        return follow.last_read_seq

    async def mark_all_read(self) -> int:
        """Every conversation read to its last event. Returns how many moved."""
        last = select(Conversation.last_seq).where(Conversation.id == ConversationMember.conversation_id)
        result = await self.session.execute(
            update(ConversationMember)
            .where(
                ConversationMember.user_id == self.user_id, ConversationMember.last_read_seq < last.scalar_subquery()
            )
            .values(last_read_seq=last.scalar_subquery())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    async def unread(self) -> list[Unread]:
        """Per conversation of the user: unread top-level messages from others, and how many mention them.

        Deleted messages no longer count, edits change mention counts, and thread replies are
        counted per thread (:meth:`unread_threads`), as in the client.
        """
        counts = self._counts()
        rows = await self.session.execute(
            select(
                ConversationMember.conversation_id,
                ConversationMember.last_read_seq,
                func.coalesce(counts.c.unread, 0),
                func.coalesce(counts.c.mentions, 0),
            )
            .outerjoin(counts, counts.c.conversation_id == ConversationMember.conversation_id)
            .where(ConversationMember.user_id == self.user_id)
        )
        return [
            Unread(conversation_id=cid, last_read_seq=last, unread=int(unread), mentions=int(mentions))
            for cid, last, unread, mentions in rows
        ]

    async def summaries(self, conversation_id: UUID | None = None) -> list[Summary]:
        """The user's conversations (or the one named) with membership and unread counts, most recently
        active first, all read by one statement so from one snapshot.

        A client takes ``last_seq`` as what it already knows and counts live events past it as new, so
        the unread count must cover exactly the messages up to that ``last_seq``: read apart under READ
        COMMITTED, a message committed in between would be counted here and again when its event
        arrives (or, in the other order, never). The rows are loaded with ``populate_existing`` so a
        conversation or membership already in the session is refreshed from this snapshot, not kept
        as read earlier.

        Args:
            conversation_id: only this conversation; none when the user is not a member of it.

        Returns:
            One summary per conversation the user is a member of.
        """
        counts = self._counts(conversation_id)
        statement = (
            select(
                Conversation,
                ConversationMember,
                func.coalesce(counts.c.unread, 0),
                func.coalesce(counts.c.mentions, 0),
            )
            .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
            .outerjoin(counts, counts.c.conversation_id == Conversation.id)
            .where(ConversationMember.user_id == self.user_id)
            .order_by(func.coalesce(Conversation.last_message_at, Conversation.created_at).desc())
            .execution_options(populate_existing=True)
        )
        if conversation_id is not None:
            statement = statement.where(Conversation.id == conversation_id)
        rows = await self.session.execute(statement)
        return [
            Summary(conversation=conversation, member=member, unread=int(unread), mentions=int(mentions))
            for conversation, member, unread, mentions in rows.tuples()
        ]

    def _counts(self, conversation_id: UUID | None = None) -> Subquery:
        """Unread top-level messages from others and mentions of the user, per conversation of the user."""
        me = self.user_id
        mentioned = or_(Message.mentions.contains([me]), Message.mention_channel, Message.mention_here)
        statement = (
            select(
                Message.conversation_id,
                func.count().label("unread"),
                func.count().filter(mentioned).label("mentions"),
            )
            .join(
                ConversationMember,
                and_(
                    ConversationMember.conversation_id == Message.conversation_id,
                    ConversationMember.user_id == me,
                ),
            )
            .where(
                Message.seq > ConversationMember.last_read_seq,
                Message.deleted_at.is_(None),
                Message.thread_root_id.is_(None),
                Message.author_id.is_distinct_from(me),
            )
            .group_by(Message.conversation_id)
        )
        if conversation_id is not None:
            statement = statement.where(Message.conversation_id == conversation_id)
        return statement.subquery()

    async def unread_threads(self) -> list[ThreadUnread]:
        """Followed threads with replies from others the user has not read."""
        rows = await self.session.execute(
            select(ThreadFollow.root_id, ThreadFollow.conversation_id, func.count(Message.id))
            .join(
                Message,
                and_(
                    Message.thread_root_id == ThreadFollow.root_id,
                    Message.seq > ThreadFollow.last_read_seq,
                    Message.deleted_at.is_(None),
                    Message.author_id.is_distinct_from(self.user_id),
                ),
            )
            .join(
                ConversationMember,
                and_(
                    ConversationMember.conversation_id == ThreadFollow.conversation_id,
                    ConversationMember.user_id == self.user_id,
                ),
            )
            .where(ThreadFollow.user_id == self.user_id)
            .group_by(ThreadFollow.root_id, ThreadFollow.conversation_id)
        )
        return [ThreadUnread(root_id=r, conversation_id=c, unread=int(n)) for r, c, n in rows]
