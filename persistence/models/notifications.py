"""Notification tables: categories, preferences, the in-app inbox and its event log, deliveries, push and email state."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from persistence.base import AuditedModel, Model, TenantScoped


def unindexed_tenant() -> Mapped[UUID]:
    """``tenant_id`` with no index of its own, for the tables the delivery path reads and writes by id
    (``notification``, its deliveries and inbox events, push subscriptions, ``job``).

    Row-level security adds ``tenant_id = <the transaction's tenant>`` to every statement. Before a
    table's first ANALYZE the planner took that for a selective condition and found each batch of
    ids by scanning the tenant's whole table through an index leading with ``tenant_id``, at a cost
    growing with the table; without such an index (migration 0014d) the condition only filters the
    rows found by their own keys.
    """
    return mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=False)


class NotificationCategory(TenantScoped, AuditedModel):
    """A kind of notification (mention, task, safety...) with the tenant's default channels and delays."""

    __tablename__ = "notification_category"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    push: Mapped[bool] = mapped_column(Boolean, default=True)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    """Users cannot override the channel defaults."""
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    """Notifications of this category may be sent with priority ``critical``."""
    push_delay_seconds: Mapped[int] = mapped_column(Integer, default=60)
    email_delay_seconds: Mapped[int] = mapped_column(Integer, default=900)
    is_builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class NotificationSettings(TenantScoped, AuditedModel):
    """One user's global choices: mute everything, quiet hours (their own timezone), digest interval."""

    __tablename__ = "notification_settings"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    digest_minutes: Mapped[int] = mapped_column(Integer, default=60)


class NotificationPreference(TenantScoped, AuditedModel):
    """A user's override of one category's default on one channel."""

    __tablename__ = "notification_preference"
    __table_args__ = (UniqueConstraint("user_id", "category_id", "channel"),)

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[UUID] = mapped_column(ForeignKey("notification_category.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    enabled: Mapped[bool] = mapped_column(Boolean)


class NotificationRequest(TenantScoped, Model):
    """One ``notify`` call, keyed by its idempotency key: the same key never notifies twice."""

    __tablename__ = "notification_request"
    __table_args__ = (UniqueConstraint("tenant_id", "idempotency_key"),)

    idempotency_key: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class Notification(TenantScoped, AuditedModel):
    """One notification in one user's inbox: unread, seen, read or archived."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_inbox", "user_id", "state", "id"),)

    tenant_id: Mapped[UUID] = unindexed_tenant()

    request_id: Mapped[UUID] = mapped_column(ForeignKey("notification_request.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2048))
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="unread")
    seen_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    overrode: Mapped[list[str]] = mapped_column(JSONB, default=list)
    """What a critical notification ignored (``quiet_hours``, ``muted``, ``preference``), so the UI can say so."""


class NotificationInbox(TenantScoped, Model):
    """A user's inbox head: the last event ``seq`` (gap-free) and the counts. Its row lock orders the inbox.

    Every notification rewrites it: pages keep half their room free (``fillfactor`` 50, migration
    0014d) so that the rewrite stays on its page as a heap-only (HOT) update.
    """

    __tablename__ = "notification_inbox"

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), unique=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    unread: Mapped[int] = mapped_column(Integer, default=0)
    unseen: Mapped[int] = mapped_column(Integer, default=0)


class InboxEvent(TenantScoped, Model):
    """One durable inbox event (a new notification, a state change) as the JSON the hub publishes."""

    __tablename__ = "notification_inbox_event"
    __table_args__ = (UniqueConstraint("user_id", "seq"),)

    tenant_id: Mapped[UUID] = unindexed_tenant()

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    occurred_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class NotificationDelivery(TenantScoped, AuditedModel):
    """A notification on one channel: its status (queued, sent, delivered, failed, bounced, skipped) and every attempt."""

    __tablename__ = "notification_delivery"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index(
            "ix_notification_delivery_failed",
            "tenant_id",
            "updated_at",
            postgresql_where=text("status IN ('failed', 'bounced')"),
        ),
    )

    tenant_id: Mapped[UUID] = unindexed_tenant()

    notification_id: Mapped[UUID] = mapped_column(ForeignKey("notification.id", ondelete="CASCADE"))
    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    target: Mapped[str | None] = mapped_column(String(320))
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    log: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)


class PushSubscription(TenantScoped, AuditedModel):
    """A browser's Web Push subscription (RFC 8030 endpoint plus the RFC 8291 keys)."""

    __tablename__ = "push_subscription"
    __table_args__ = (UniqueConstraint("endpoint", "tenant_id"),)

    tenant_id: Mapped[UUID] = unindexed_tenant()

    user_id: Mapped[UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048))
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTimeUTC(timezone=True))


class EmailSuppression(TenantScoped, Model):
    """An address the mail server refused permanently (5xx): no more mail goes there."""

    __tablename__ = "email_suppression"
    __table_args__ = (UniqueConstraint("tenant_id", "address"),)

    address: Mapped[str] = mapped_column(String(320))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))


class VapidKey(Model):
    """The installation's VAPID key pair, generated once: a new key would orphan every push subscription."""

    __tablename__ = "vapid_key"

    name: Mapped[str] = mapped_column(String(32), unique=True)
    public_key: Mapped[str] = mapped_column(String(128))
    private_key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTimeUTC(timezone=True))
