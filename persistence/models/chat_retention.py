"""A tenant's chat retention policy: how long messages and shared files are kept (none: forever)."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy import Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, TenantScoped


class ChatRetentionPolicy(TenantScoped, AuditedModel):
    """At most one row per tenant; no row, or a null period, keeps everything."""

    __tablename__ = "chat_retention_policy"
    __table_args__ = (UniqueConstraint("tenant_id", name="uq_chat_retention_policy_tenant_id"),)

    message_days: Mapped[int | None] = mapped_column(Integer)
    """Messages (and their events, reactions, edits and files) older than this many days are deleted."""
    file_days: Mapped[int | None] = mapped_column(Integer)
    """Shared files older than this many days are deleted, even while their message is kept."""
    updated_by: Mapped[UUID | None] = mapped_column()
