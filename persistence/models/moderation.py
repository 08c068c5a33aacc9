"""Moderation tables: flags, cases, rules, actions, mutes, appeals, moderators' scopes, per-tenant settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped

# A case counts as open while it is waiting or being worked on.
OPEN_CASE = text("status IN ('open', 'in_review')")


class ModerationSettings(TenantScoped, AuditedModel):
    """One row per tenant: the rules' version stamp (bumped on every rule change) and disclosure choices."""

    __tablename__ = "moderation_settings"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    rules_version: Mapped[int] = mapped_column(BigInteger, default=0)
    reveal_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether a reporter's feedback names the moderator who closed the case."""


class ModerationRule(TenantScoped, AuditedModel):
    """An automatic rule: what it matches (``kind`` + ``terms``/``pattern``/``threshold``) and what it does."""

    __tablename__ = "moderation_rule"

    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(16))
    terms: Mapped[list[str]] = mapped_column(ARRAY(String(200)), default=list)
    pattern: Mapped[str | None] = mapped_column(String(500))
    threshold: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    fired_count: Mapped[int] = mapped_column(BigInteger, default=0)
    dismissed_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class ModerationCase(TenantScoped, AuditedModel):
    """Everything reported about one item (a message or a file), or one appeal, waiting for a moderator."""

    __tablename__ = "moderation_case"
    __table_args__ = (
        # Several flags on one item gather into its one open case.
        Index("uq_moderation_case_open_message", "message_id", unique=True, postgresql_where=OPEN_CASE),
        Index("uq_moderation_case_open_attachment", "attachment_id", unique=True, postgresql_where=OPEN_CASE),
        Index("ix_moderation_case_queue", "tenant_id", "status", "priority", "created_at"),
    )

    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[UUID | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    attachment_id: Mapped[UUID | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    conversation_id: Mapped[UUID | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"), index=True)
    author_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    flag_count: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list)
    rule_ids: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    content: Mapped[str] = mapped_column(Text, default="")
    """The content as it was when the case opened (the audit keeps it even after a delete)."""
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    claimed_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    closed_by: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(32))
    appeal_id: Mapped[UUID | None] = mapped_column()
    excluded_moderator_id: Mapped[UUID | None] = mapped_column()
    """For an appeal: the moderator who took the action, who may not decide it."""


class ModerationFlag(TenantScoped, AuditedModel):
    """One member's report of one item; open until its case closes."""

    __tablename__ = "moderation_flag"
    __table_args__ = (
        Index(
            "uq_moderation_flag_open_message",
            "reporter_id",
            "message_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL AND message_id IS NOT NULL"),
        ),
        Index(
            "uq_moderation_flag_open_attachment",
            "reporter_id",
            "attachment_id",
            unique=True,
            postgresql_where=text("closed_at IS NULL AND attachment_id IS NOT NULL"),
        ),
    )

    case_id: Mapped[UUID] = mapped_column(ForeignKey("moderation_case.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[UUID | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    attachment_id: Mapped[UUID | None] = mapped_column(ForeignKey("attachment.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(1000), default="")
    closed_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class MessageModeration(TenantScoped, AuditedModel):
    """A message that others may not see: ``held`` (waiting for approval) or ``hidden`` (by a moderator)."""

    __tablename__ = "message_moderation"
    __table_args__ = (UniqueConstraint("message_id"),)

    message_id: Mapped[UUID] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"))
    conversation_id: Mapped[UUID] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16))


class ModerationAction(TenantScoped, AuditedModel):
    """What a moderator did, why, and to what (with the content as it was); appealable once."""

    __tablename__ = "moderation_action"

    case_id: Mapped[UUID | None] = mapped_column(ForeignKey("moderation_case.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    moderator_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))
    target_user_id: Mapped[UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), index=True)
    message_id: Mapped[UUID | None] = mapped_column(ForeignKey("message.id", ondelete="SET NULL"))
    conversation_id: Mapped[UUID | None] = mapped_column(ForeignKey("conversation.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(1000))
    content: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    expires_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ModerationMute(TenantScoped, AuditedModel):
    """A user who may not send until ``expires_at``: in one conversation, or (no conversation) the whole tenant."""

    __tablename__ = "moderation_mute"
    __table_args__ = (Index("ix_moderation_mute_user", "user_id", "expires_at"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    conversation_id: Mapped[UUID | None] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    action_id: Mapped[UUID] = mapped_column(ForeignKey("moderation_action.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class ModerationAppeal(TenantScoped, AuditedModel):
    """The affected user's one appeal against one action; decided through a case by another moderator."""

    __tablename__ = "moderation_appeal"
    __table_args__ = (UniqueConstraint("action_id"),)

    action_id: Mapped[UUID] = mapped_column(ForeignKey("moderation_action.id", ondelete="CASCADE"))
    appellant_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    statement: Mapped[str] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(16), default="pending")


class ModeratorScope(TenantScoped, AuditedModel):
    """Limits one moderator to authors of some departments and conversations of some workplaces."""

    __tablename__ = "moderator_scope"
    __table_args__ = (UniqueConstraint("user_id"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    department_ids: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
    workplace_ids: Mapped[list[UUID]] = mapped_column(ARRAY(PG_UUID(as_uuid=True)), default=list)
