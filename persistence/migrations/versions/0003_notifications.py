"""Notifications: categories, preferences, the inbox and its event log, deliveries, push subscriptions, VAPID key.

Revision ID: 0003n
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0003n"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "email_suppression",
    "notification_category",
    "notification_inbox",
    "notification_inbox_event",
    "notification_request",
    "notification_settings",
    "push_subscription",
    "notification",
    "notification_preference",
    "notification_delivery",
)


def upgrade() -> None:
    op.create_table(
        "vapid_key",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=False),
        sa.Column("private_key_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vapid_key")),
        sa.UniqueConstraint("name", name=op.f("uq_vapid_key_name")),
    )
    op.create_table(
        "email_suppression",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_email_suppression_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_suppression")),
        sa.UniqueConstraint("tenant_id", "address", name=op.f("uq_email_suppression_tenant_id")),
    )
    op.create_index(op.f("ix_email_suppression_tenant_id"), "email_suppression", ["tenant_id"], unique=False)
    op.create_table(
        "notification_category",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("in_app", sa.Boolean(), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.Column("push", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("critical", sa.Boolean(), nullable=False),
        sa.Column("push_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("email_delay_seconds", sa.Integer(), nullable=False),
        sa.Column("is_builtin", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_category_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_category")),
        sa.UniqueConstraint("tenant_id", "key", name=op.f("uq_notification_category_tenant_id")),
    )
    op.create_index(op.f("ix_notification_category_tenant_id"), "notification_category", ["tenant_id"], unique=False)
    op.create_table(
        "notification_request",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_request_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_request")),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name=op.f("uq_notification_request_tenant_id")),
    )
    op.create_index(op.f("ix_notification_request_tenant_id"), "notification_request", ["tenant_id"], unique=False)
    op.create_table(
        "notification",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("request_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2048), nullable=True),
        sa.Column("actions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("seen_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("read_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("archived_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("overrode", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["notification_request.id"],
            name=op.f("fk_notification_request_id_notification_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index("ix_notification_inbox", "notification", ["user_id", "state", "id"], unique=False)
    op.create_index(op.f("ix_notification_request_id"), "notification", ["request_id"], unique=False)
    op.create_index(op.f("ix_notification_tenant_id"), "notification", ["tenant_id"], unique=False)
    op.create_table(
        "notification_inbox",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False),
        sa.Column("unseen", sa.Integer(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_inbox_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_inbox_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_inbox")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_inbox_user_id")),
    )
    op.create_index(op.f("ix_notification_inbox_tenant_id"), "notification_inbox", ["tenant_id"], unique=False)
    op.create_table(
        "notification_inbox_event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("occurred_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_inbox_event_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_inbox_event_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_inbox_event")),
        sa.UniqueConstraint("user_id", "seq", name=op.f("uq_notification_inbox_event_user_id")),
    )
    op.create_index(
        op.f("ix_notification_inbox_event_tenant_id"), "notification_inbox_event", ["tenant_id"], unique=False
    )
    op.create_table(
        "notification_preference",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("category_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["notification_category.id"],
            name=op.f("fk_notification_preference_category_id_notification_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_preference_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_preference_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("user_id", "category_id", "channel", name=op.f("uq_notification_preference_user_id")),
    )
    op.create_index(
        op.f("ix_notification_preference_category_id"), "notification_preference", ["category_id"], unique=False
    )
    op.create_index(
        op.f("ix_notification_preference_tenant_id"), "notification_preference", ["tenant_id"], unique=False
    )
    op.create_index(op.f("ix_notification_preference_user_id"), "notification_preference", ["user_id"], unique=False)
    op.create_table(
        "notification_settings",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("digest_minutes", sa.Integer(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_settings_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_settings_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_settings")),
        sa.UniqueConstraint("user_id", name=op.f("uq_notification_settings_user_id")),
    )
    op.create_index(op.f("ix_notification_settings_tenant_id"), "notification_settings", ["tenant_id"], unique=False)
    op.create_table(
        "push_subscription",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("p256dh", sa.String(length=128), nullable=False),
        sa.Column("auth", sa.String(length=64), nullable=False),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("last_success_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_push_subscription_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_push_subscription_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscription")),
        sa.UniqueConstraint("tenant_id", "endpoint", name=op.f("uq_push_subscription_tenant_id")),
    )
    op.create_index(op.f("ix_push_subscription_tenant_id"), "push_subscription", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_push_subscription_user_id"), "push_subscription", ["user_id"], unique=False)
    op.create_table(
        "notification_delivery",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("notification_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=320), nullable=True),
        sa.Column("scheduled_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("log", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_delivery_notification_id_notification"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_notification_delivery_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_notification_delivery_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
        sa.UniqueConstraint("notification_id", "channel", name=op.f("uq_notification_delivery_notification_id")),
    )
    op.create_index(
        "ix_notification_delivery_failed",
        "notification_delivery",
        ["tenant_id", "updated_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('failed', 'bounced')"),
    )
    op.create_index(op.f("ix_notification_delivery_tenant_id"), "notification_delivery", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_notification_delivery_user_id"), "notification_delivery", ["user_id"], unique=False)
    for table in TENANT_TABLES:
        secure_tenant_table(table)
    # vapid_key is the installation's, not a tenant's: no row-level security, the app role reads and
    # inserts it (the one key pair every tenant's subscriptions are bound to).


def downgrade() -> None:
    for table in TENANT_TABLES:
        unsecure_tenant_table(table)
    op.drop_index(op.f("ix_notification_delivery_user_id"), table_name="notification_delivery")
    op.drop_index(op.f("ix_notification_delivery_tenant_id"), table_name="notification_delivery")
    op.drop_index(
        "ix_notification_delivery_failed",
        table_name="notification_delivery",
        postgresql_where=sa.text("status IN ('failed', 'bounced')"),
    )
    op.drop_table("notification_delivery")
    op.drop_index(op.f("ix_push_subscription_user_id"), table_name="push_subscription")
    op.drop_index(op.f("ix_push_subscription_tenant_id"), table_name="push_subscription")
    op.drop_table("push_subscription")
    op.drop_index(op.f("ix_notification_settings_tenant_id"), table_name="notification_settings")
    op.drop_table("notification_settings")
    op.drop_index(op.f("ix_notification_preference_user_id"), table_name="notification_preference")
    op.drop_index(op.f("ix_notification_preference_tenant_id"), table_name="notification_preference")
    op.drop_index(op.f("ix_notification_preference_category_id"), table_name="notification_preference")
    op.drop_table("notification_preference")
    op.drop_index(op.f("ix_notification_inbox_event_tenant_id"), table_name="notification_inbox_event")
    op.drop_table("notification_inbox_event")
    op.drop_index(op.f("ix_notification_inbox_tenant_id"), table_name="notification_inbox")
    op.drop_table("notification_inbox")
    op.drop_index(op.f("ix_notification_tenant_id"), table_name="notification")
    op.drop_index(op.f("ix_notification_request_id"), table_name="notification")
    op.drop_index("ix_notification_inbox", table_name="notification")
    op.drop_table("notification")
    op.drop_index(op.f("ix_notification_request_tenant_id"), table_name="notification_request")
    op.drop_table("notification_request")
    op.drop_index(op.f("ix_notification_category_tenant_id"), table_name="notification_category")
    op.drop_table("notification_category")
    op.drop_index(op.f("ix_email_suppression_tenant_id"), table_name="email_suppression")
    op.drop_table("email_suppression")
    op.drop_table("vapid_key")
