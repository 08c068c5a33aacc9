"""Chat tables: conversations and members, the gap-free event log, messages, edits, reactions, threads, files."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, Model, TenantScoped


class Conversation(TenantScoped, AuditedModel):
    """A channel (public, private, a workplace's), a direct message or a group DM.

    ``last_seq`` is the conversation's event counter: every durable event takes the next value in
    the transaction that stores it, so the sequence has no gaps and no duplicates.
    """

    __tablename__ = "conversation"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dm_key", name="uq_conversation_dm_key"),
        UniqueConstraint("tenant_id", "workplace_id", name="uq_conversation_workplace_id"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(80))
    topic: Mapped[str] = mapped_column(String(250), default="")
    purpose: Mapped[str] = mapped_column(String(250), default="")
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    archived_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    dm_key: Mapped[str | None] = mapped_column(String(80))
    """For direct messages: both user ids, sorted; makes the pair's DM unique."""
    workplace_id: Mapped[UUID | None] = mapped_column()


class ConversationMember(TenantScoped, AuditedModel):
    """A user's membership: role, mute, notification level and read position."""

    __tablename__ = "conversation_member"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    conversation_id: Mapped[UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    notify_level: Mapped[str] = mapped_column(String(16), default="all")
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class ConversationEvent(TenantScoped, Model):
    """One durable event of a conversation at its ``seq``: what clients replay after a reconnect.

    ``payload`` is the exact JSON published live, so a replayed event and a live one are the same.
    """

    __tablename__ = "conversation_event"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        Index("ix_conversation_event_tenant_created", "tenant_id", "created_at"),
    )

    conversation_id: Mapped[UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[UUID | None] = mapped_column()
    message_id: Mapped[UUID | None] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Message(TenantScoped, AuditedModel):
    """A chat message; a reply names its thread root; a deleted one keeps only its tombstone."""

    __tablename__ = "message"
    __table_args__ = (
        UniqueConstraint("conversation_id", "author_id", "client_id"),
        Index("ix_message_conversation_seq", "conversation_id", "seq"),
        Index("ix_message_thread", "thread_root_id", "seq"),
        Index("ix_message_search", "search_vector", postgresql_using="gin"),
        # Retention sweeps find a tenant's old messages by age.
        Index("ix_message_tenant_created", "tenant_id", "created_at"),
    )

    conversation_id: Mapped[UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    client_id: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    thread_root_id: Mapped[UUID | None] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    last_reply_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    last_reply_seq: Mapped[int | None] = mapped_column(BigInteger)
    thread_participants: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    mentions: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    mention_here: Mapped[bool] = mapped_column(Boolean, default=False)
    mention_channel: Mapped[bool] = mapped_column(Boolean, default=False)
    links: Mapped[list[str]] = mapped_column(ARRAY(String(2048)), default=list)
    attachment_ids: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    edited_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    pinned_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    pinned_by: Mapped[UUID | None] = mapped_column()
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed("to_tsvector('simple', body)", persisted=True), deferred=True
    )


class MessageEdit(TenantScoped, Model):
    """A message's text before one edit (the edit history)."""

    __tablename__ = "message_edit"

    message_id: Mapped[UUID] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[UUID | None] = mapped_column()
    previous_body: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Reaction(TenantScoped, Model):
    """One emoji from one user on one message."""

    __tablename__ = "reaction"
    __table_args__ = (UniqueConstraint("message_id", "user_id", "emoji"),)

    message_id: Mapped[UUID] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    emoji: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class ThreadFollow(TenantScoped, Model):
    """A user following a thread (they started it or replied), with how far they have read it."""

    __tablename__ = "thread_follow"
    __table_args__ = (UniqueConstraint("root_id", "user_id"),)

    root_id: Mapped[UUID] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    last_read_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Attachment(TenantScoped, AuditedModel):
    """An uploaded file: where its bytes are, what they are, and where it was shared."""

    __tablename__ = "attachment"
    # The orphan sweep looks for uploads never attached to a message, by age.
    __table_args__ = (
        Index("ix_attachment_unattached", "tenant_id", "created_at", postgresql_where=text("message_id IS NULL")),
    )

    uploader_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    conversation_id: Mapped[UUID | None] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[UUID | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(255))
