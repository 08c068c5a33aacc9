"""What clients see of chat: msgspec Structs shared by live events, replay, HTTP responses and acks."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self
from uuid import UUID

import msgspec

from persistence.models import Conversation, ConversationMember, Message

ConversationKind = Literal["public", "private", "direct", "group", "workplace"]
MemberRole = Literal["owner", "admin", "member"]
NotifyLevel = Literal["all", "mentions", "none"]


class View(msgspec.Struct, kw_only=True, omit_defaults=True):
    """Base of every view: fields left at their default are not sent."""

    @classmethod
    def from_row(cls, row: object) -> Self:
        """The view of a model row whose attributes carry every field under the same name (validated)."""
        return msgspec.convert(row, cls, from_attributes=True)


class ReactionCount(View, kw_only=True):
    emoji: str
    count: int
    users: list[UUID]


class MessageView(View, kw_only=True):
    id: UUID
    conversation_id: UUID
    seq: int
    author_id: UUID | None
    client_id: str
    body: str
    created_at: datetime
    thread_root_id: UUID | None = None
    reply_count: int = 0
    last_reply_at: datetime | None = None
    thread_participants: list[UUID] = msgspec.field(default_factory=list)
    mentions: list[UUID] = msgspec.field(default_factory=list)
    mention_here: bool = False
    mention_channel: bool = False
    links: list[str] = msgspec.field(default_factory=list)
    attachment_ids: list[UUID] = msgspec.field(default_factory=list)
    edited_at: datetime | None = None
    deleted: bool = False
    pinned: bool = False
    reactions: list[ReactionCount] = msgspec.field(default_factory=list)
    moderation: Literal["held", "hidden"] | None = None
    """Set while moderation keeps the content from others (see ``channels.moderation``)."""

    @classmethod
    def of(cls, message: Message, reactions: list[ReactionCount] | None = None) -> MessageView:
        deleted = message.deleted_at is not None
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            seq=message.seq,
            author_id=message.author_id,
            client_id=message.client_id,
            # A tombstone keeps its place in history, never its content.
            body="" if deleted else message.body,
            created_at=message.created_at,
            thread_root_id=message.thread_root_id,
            reply_count=message.reply_count,
            last_reply_at=message.last_reply_at,
            thread_participants=list(message.thread_participants or []),
            mentions=[] if deleted else list(message.mentions or []),
            mention_here=message.mention_here and not deleted,
            mention_channel=message.mention_channel and not deleted,
            links=[] if deleted else list(message.links or []),
            attachment_ids=[] if deleted else list(message.attachment_ids or []),
            edited_at=message.edited_at,
            deleted=deleted,
            pinned=message.pinned_at is not None,
            reactions=[] if deleted else (reactions or []),
        )


class ConversationView(View, kw_only=True):
    id: UUID
    kind: ConversationKind
    name: str | None
    topic: str = ""
    purpose: str = ""
    archived: bool = False
    last_seq: int = 0
    last_message_at: datetime | None = None
    created_at: datetime
    workplace_id: UUID | None = None

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationView:
        return cls(
            id=conversation.id,
            kind=conversation.kind,  # type: ignore[arg-type]
            name=conversation.name,
            topic=conversation.topic,
            purpose=conversation.purpose,
            archived=conversation.archived_at is not None,
            last_seq=conversation.last_seq,
            last_message_at=conversation.last_message_at,
            created_at=conversation.created_at,
            workplace_id=conversation.workplace_id,
        )


class MemberView(View, kw_only=True):
    user_id: UUID
    role: MemberRole
    muted: bool = False
    notify_level: NotifyLevel = "all"
    last_read_seq: int = 0

    @classmethod
    def of(cls, member: ConversationMember) -> MemberView:
        return cls(
            user_id=member.user_id,
            role=member.role,  # type: ignore[arg-type]
            muted=member.muted,
            notify_level=member.notify_level,  # type: ignore[arg-type]
            last_read_seq=member.last_read_seq,
        )


EventKind = Literal[
    "message.created",
    "message.edited",
    "message.deleted",
    "message.pinned",
    "message.unpinned",
    "message.moderated",
    "reaction.added",
    "reaction.removed",
    "member.joined",
    "member.left",
    "member.updated",
    "conversation.updated",
    "conversation.archived",
    "conversation.unarchived",
]


class ChatEvent(View, kw_only=True):
    """One durable event of a conversation, exactly as published live and replayed on resume."""

    kind: EventKind
    conversation_id: UUID
    seq: int
    actor_id: UUID | None
    at: datetime
    message: MessageView | None = None
    member: MemberView | None = None
    removed_user_id: UUID | None = None
    reaction: ReactionChange | None = None
    conversation: ConversationView | None = None


class ReactionChange(View, kw_only=True):
    message_id: UUID
    emoji: str
    user_id: UUID


class ReadReceipt(View, kw_only=True, omit_defaults=False):
    """An ephemeral event (no ``seq``): a member has read up to ``seq``. Sent whole: clients tell it
    from the conversation's other events by its ``kind``."""

    kind: Literal["read"] = "read"
    conversation_id: UUID
    user_id: UUID
    seq: int
