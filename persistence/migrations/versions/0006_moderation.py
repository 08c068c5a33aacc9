"""Moderation: flags gathered into cases, automatic rules, held and hidden messages, actions, mutes,
appeals, moderators' scopes and per-tenant settings; every table fenced by row-level security.

Revision ID: 0006m
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0006m"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = [
    "moderation_settings",
    "moderation_rule",
    "moderator_scope",
    "message_moderation",
    "moderation_case",
    "moderation_action",
    "moderation_flag",
    "moderation_appeal",
    "moderation_mute",
]


def upgrade() -> None:
    op.create_table(
        "moderation_settings",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("rules_version", sa.BigInteger(), nullable=False),
        sa.Column("reveal_moderator", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_settings_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_settings")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_moderation_settings_tenant_id")),
    )
    op.create_index(op.f("ix_moderation_settings_tenant_id"), "moderation_settings", ["tenant_id"], unique=False)
    op.create_table(
        "moderation_rule",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("terms", postgresql.ARRAY(sa.String(length=200)), nullable=False),
        sa.Column("pattern", sa.String(length=500), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("fired_count", sa.BigInteger(), nullable=False),
        sa.Column("dismissed_count", sa.BigInteger(), nullable=False),
        sa.Column("created_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_moderation_rule_created_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_rule_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_rule")),
    )
    op.create_index(op.f("ix_moderation_rule_tenant_id"), "moderation_rule", ["tenant_id"], unique=False)
    op.create_table(
        "moderator_scope",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("department_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("workplace_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderator_scope_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_moderator_scope_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderator_scope")),
        sa.UniqueConstraint("user_id", name=op.f("uq_moderator_scope_user_id")),
    )
    op.create_index(op.f("ix_moderator_scope_tenant_id"), "moderator_scope", ["tenant_id"], unique=False)
    op.create_table(
        "message_moderation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_message_moderation_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_moderation_message_id_message"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_moderation_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_moderation")),
        sa.UniqueConstraint("message_id", name=op.f("uq_message_moderation_message_id")),
    )
    op.create_index(
        op.f("ix_message_moderation_conversation_id"), "message_moderation", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_message_moderation_tenant_id"), "message_moderation", ["tenant_id"], unique=False)
    op.create_table(
        "moderation_case",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("attachment_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("flag_count", sa.Integer(), nullable=False),
        sa.Column("reasons", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("rule_ids", postgresql.ARRAY(sa.UUID()), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("claimed_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("claimed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("closed_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("closed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.Column("appeal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("excluded_moderator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_moderation_case_attachment_id_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_moderation_case_author_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by"], ["app_user.id"], name=op.f("fk_moderation_case_claimed_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["app_user.id"], name=op.f("fk_moderation_case_closed_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_moderation_case_conversation_id_conversation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_moderation_case_message_id_message"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_case_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_case")),
    )
    op.create_index(op.f("ix_moderation_case_author_id"), "moderation_case", ["author_id"], unique=False)
    op.create_index(op.f("ix_moderation_case_conversation_id"), "moderation_case", ["conversation_id"], unique=False)
    op.create_index(
        "ix_moderation_case_queue", "moderation_case", ["tenant_id", "status", "priority", "created_at"], unique=False
    )
    op.create_index(op.f("ix_moderation_case_tenant_id"), "moderation_case", ["tenant_id"], unique=False)
    op.create_index(
        "uq_moderation_case_open_attachment",
        "moderation_case",
        ["attachment_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('open', 'in_review')"),
    )
    op.create_index(
        "uq_moderation_case_open_message",
        "moderation_case",
        ["message_id"],
        unique=True,
        postgresql_where=sa.text("status IN ('open', 'in_review')"),
    )
    op.create_table(
        "moderation_action",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("case_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("moderator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("target_user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_case.id"],
            name=op.f("fk_moderation_action_case_id_moderation_case"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_moderation_action_conversation_id_conversation"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_moderation_action_message_id_message"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["moderator_id"],
            ["app_user.id"],
            name=op.f("fk_moderation_action_moderator_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_user_id"],
            ["app_user.id"],
            name=op.f("fk_moderation_action_target_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_action_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_action")),
    )
    op.create_index(op.f("ix_moderation_action_case_id"), "moderation_action", ["case_id"], unique=False)
    op.create_index(op.f("ix_moderation_action_target_user_id"), "moderation_action", ["target_user_id"], unique=False)
    op.create_index(op.f("ix_moderation_action_tenant_id"), "moderation_action", ["tenant_id"], unique=False)
    op.create_table(
        "moderation_flag",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("case_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("reporter_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("attachment_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("closed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_moderation_flag_attachment_id_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_case.id"],
            name=op.f("fk_moderation_flag_case_id_moderation_case"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_moderation_flag_message_id_message"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["app_user.id"], name=op.f("fk_moderation_flag_reporter_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_flag_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_flag")),
    )
    op.create_index(op.f("ix_moderation_flag_case_id"), "moderation_flag", ["case_id"], unique=False)
    op.create_index(op.f("ix_moderation_flag_reporter_id"), "moderation_flag", ["reporter_id"], unique=False)
    op.create_index(op.f("ix_moderation_flag_tenant_id"), "moderation_flag", ["tenant_id"], unique=False)
    op.create_index(
        "uq_moderation_flag_open_attachment",
        "moderation_flag",
        ["reporter_id", "attachment_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL AND attachment_id IS NOT NULL"),
    )
    op.create_index(
        "uq_moderation_flag_open_message",
        "moderation_flag",
        ["reporter_id", "message_id"],
        unique=True,
        postgresql_where=sa.text("closed_at IS NULL AND message_id IS NOT NULL"),
    )
    op.create_table(
        "moderation_appeal",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("appellant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("statement", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["moderation_action.id"],
            name=op.f("fk_moderation_appeal_action_id_moderation_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appellant_id"],
            ["app_user.id"],
            name=op.f("fk_moderation_appeal_appellant_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_appeal_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_appeal")),
        sa.UniqueConstraint("action_id", name=op.f("uq_moderation_appeal_action_id")),
    )
    op.create_index(op.f("ix_moderation_appeal_tenant_id"), "moderation_appeal", ["tenant_id"], unique=False)
    op.create_table(
        "moderation_mute",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("action_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("lifted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["moderation_action.id"],
            name=op.f("fk_moderation_mute_action_id_moderation_action"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_moderation_mute_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_moderation_mute_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_moderation_mute_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_mute")),
    )
    op.create_index(op.f("ix_moderation_mute_tenant_id"), "moderation_mute", ["tenant_id"], unique=False)
    op.create_index("ix_moderation_mute_user", "moderation_mute", ["user_id", "expires_at"], unique=False)
    for table in TENANT_TABLES:
        secure_tenant_table(table)
    # Existing tenants' built-in roles gain the new moderation permissions (new tenants get them at creation).
    op.execute(
        "UPDATE role SET permissions = array_append(permissions, 'moderation:rules') "
        "WHERE is_builtin AND name IN ('moderator', 'admin') AND NOT 'moderation:rules' = ANY (permissions)"
    )
    op.execute(
        "UPDATE role SET permissions = array_append(permissions, 'moderation:admin') "
        "WHERE is_builtin AND name = 'admin' AND NOT 'moderation:admin' = ANY (permissions)"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE role SET permissions = array_remove(array_remove(permissions, 'moderation:rules'), 'moderation:admin')"
    )
    for table in reversed(TENANT_TABLES):
        unsecure_tenant_table(table)
    op.drop_index("ix_moderation_mute_user", table_name="moderation_mute")
    op.drop_index(op.f("ix_moderation_mute_tenant_id"), table_name="moderation_mute")
    op.drop_table("moderation_mute")
    op.drop_index(op.f("ix_moderation_appeal_tenant_id"), table_name="moderation_appeal")
    op.drop_table("moderation_appeal")
    op.drop_index(
        "uq_moderation_flag_open_message",
        table_name="moderation_flag",
        postgresql_where=sa.text("closed_at IS NULL AND message_id IS NOT NULL"),
    )
    op.drop_index(
        "uq_moderation_flag_open_attachment",
        table_name="moderation_flag",
        postgresql_where=sa.text("closed_at IS NULL AND attachment_id IS NOT NULL"),
    )
    op.drop_index(op.f("ix_moderation_flag_tenant_id"), table_name="moderation_flag")
    op.drop_index(op.f("ix_moderation_flag_reporter_id"), table_name="moderation_flag")
    op.drop_index(op.f("ix_moderation_flag_case_id"), table_name="moderation_flag")
    op.drop_table("moderation_flag")
    op.drop_index(op.f("ix_moderation_action_tenant_id"), table_name="moderation_action")
    op.drop_index(op.f("ix_moderation_action_target_user_id"), table_name="moderation_action")
    op.drop_index(op.f("ix_moderation_action_case_id"), table_name="moderation_action")
    op.drop_table("moderation_action")
    op.drop_index(
        "uq_moderation_case_open_message",
        table_name="moderation_case",
        postgresql_where=sa.text("status IN ('open', 'in_review')"),
    )
    op.drop_index(
        "uq_moderation_case_open_attachment",
        table_name="moderation_case",
        postgresql_where=sa.text("status IN ('open', 'in_review')"),
    )
    op.drop_index(op.f("ix_moderation_case_tenant_id"), table_name="moderation_case")
    op.drop_index("ix_moderation_case_queue", table_name="moderation_case")
    op.drop_index(op.f("ix_moderation_case_conversation_id"), table_name="moderation_case")
    op.drop_index(op.f("ix_moderation_case_author_id"), table_name="moderation_case")
    op.drop_table("moderation_case")
    op.drop_index(op.f("ix_message_moderation_tenant_id"), table_name="message_moderation")
    op.drop_index(op.f("ix_message_moderation_conversation_id"), table_name="message_moderation")
    op.drop_table("message_moderation")
    op.drop_index(op.f("ix_moderator_scope_tenant_id"), table_name="moderator_scope")
    op.drop_table("moderator_scope")
    op.drop_index(op.f("ix_moderation_rule_tenant_id"), table_name="moderation_rule")
    op.drop_table("moderation_rule")
    op.drop_index(op.f("ix_moderation_settings_tenant_id"), table_name="moderation_settings")
    op.drop_table("moderation_settings")
