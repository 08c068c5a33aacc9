"""Chat: conversations, members, the gap-free event log, messages, edits, reactions, threads, files.

Revision ID: 0003c
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0003c"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "conversation",
    "conversation_member",
    "conversation_event",
    "message",
    "message_edit",
    "reaction",
    "thread_follow",
    "attachment",
)


def upgrade() -> None:
    op.create_table(
        "conversation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=True),
        sa.Column("topic", sa.String(length=250), nullable=False),
        sa.Column("purpose", sa.String(length=250), nullable=False),
        sa.Column("created_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("archived_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("dm_key", sa.String(length=80), nullable=True),
        sa.Column("workplace_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_conversation_created_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_conversation_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation")),
        sa.UniqueConstraint("tenant_id", "dm_key", name="uq_conversation_dm_key"),
        sa.UniqueConstraint("tenant_id", "workplace_id", name="uq_conversation_workplace_id"),
    )
    op.create_index(op.f("ix_conversation_tenant_id"), "conversation", ["tenant_id"], unique=False)
    op.create_table(
        "conversation_event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("actor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_event_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_conversation_event_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_event")),
        sa.UniqueConstraint("conversation_id", "seq", name=op.f("uq_conversation_event_conversation_id")),
    )
    op.create_index(op.f("ix_conversation_event_tenant_id"), "conversation_event", ["tenant_id"], unique=False)
    op.create_table(
        "conversation_member",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("notify_level", sa.String(length=16), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_conversation_member_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_conversation_member_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_conversation_member_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_member")),
        sa.UniqueConstraint("conversation_id", "user_id", name=op.f("uq_conversation_member_conversation_id")),
    )
    op.create_index(
        op.f("ix_conversation_member_conversation_id"), "conversation_member", ["conversation_id"], unique=False
    )
    op.create_index(op.f("ix_conversation_member_tenant_id"), "conversation_member", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_conversation_member_user_id"), "conversation_member", ["user_id"], unique=False)
    op.create_table(
        "message",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("thread_root_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("reply_count", sa.Integer(), nullable=False),
        sa.Column("last_reply_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_reply_seq", sa.BigInteger(), nullable=True),
        sa.Column("thread_participants", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("mentions", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("mention_here", sa.Boolean(), nullable=False),
        sa.Column("mention_channel", sa.Boolean(), nullable=False),
        sa.Column("links", sa.ARRAY(sa.String(length=2048)), nullable=False),
        sa.Column("attachment_ids", sa.ARRAY(sa.UUID()), nullable=False),
        sa.Column("edited_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("deleted_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("pinned_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("pinned_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('simple', body)", persisted=True),
            nullable=True,
        ),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_message_author_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_message_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["thread_root_id"], ["message.id"], name=op.f("fk_message_thread_root_id_message"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("conversation_id", "author_id", "client_id", name=op.f("uq_message_conversation_id")),
    )
    op.create_index("ix_message_conversation_seq", "message", ["conversation_id", "seq"], unique=False)
    op.create_index("ix_message_search", "message", ["search_vector"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_message_tenant_id"), "message", ["tenant_id"], unique=False)
    op.create_index("ix_message_thread", "message", ["thread_root_id", "seq"], unique=False)
    op.create_table(
        "attachment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("uploader_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_attachment_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_attachment_message_id_message"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_attachment_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploader_id"], ["app_user.id"], name=op.f("fk_attachment_uploader_id_app_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    op.create_index(op.f("ix_attachment_conversation_id"), "attachment", ["conversation_id"], unique=False)
    op.create_index(op.f("ix_attachment_message_id"), "attachment", ["message_id"], unique=False)
    op.create_index(op.f("ix_attachment_tenant_id"), "attachment", ["tenant_id"], unique=False)
    op.create_table(
        "message_edit",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("editor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("previous_body", sa.Text(), nullable=False),
        sa.Column("edited_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_message_edit_message_id_message"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_message_edit_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_edit")),
    )
    op.create_index(op.f("ix_message_edit_message_id"), "message_edit", ["message_id"], unique=False)
    op.create_index(op.f("ix_message_edit_tenant_id"), "message_edit", ["tenant_id"], unique=False)
    op.create_table(
        "reaction",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("emoji", sa.String(length=64), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_reaction_message_id_message"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_reaction_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_reaction_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reaction")),
        sa.UniqueConstraint("message_id", "user_id", "emoji", name=op.f("uq_reaction_message_id")),
    )
    op.create_index(op.f("ix_reaction_message_id"), "reaction", ["message_id"], unique=False)
    op.create_index(op.f("ix_reaction_tenant_id"), "reaction", ["tenant_id"], unique=False)
    op.create_table(
        "thread_follow",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("root_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("conversation_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation.id"],
            name=op.f("fk_thread_follow_conversation_id_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["root_id"], ["message.id"], name=op.f("fk_thread_follow_root_id_message"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_thread_follow_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_thread_follow_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thread_follow")),
        sa.UniqueConstraint("root_id", "user_id", name=op.f("uq_thread_follow_root_id")),
    )
    op.create_index(op.f("ix_thread_follow_tenant_id"), "thread_follow", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_thread_follow_user_id"), "thread_follow", ["user_id"], unique=False)
    for table in TABLES:
        secure_tenant_table(table)
    # Existing tenants' built-in roles gain the permission to chat (new tenants get it at creation).
    op.execute(
        "UPDATE role SET permissions = array_append(permissions, 'chat:use') "
        "WHERE is_builtin AND name IN ('staff', 'supervisor', 'moderator', 'admin') "
        "AND NOT 'chat:use' = ANY (permissions)"
    )


def downgrade() -> None:
    op.execute("UPDATE role SET permissions = array_remove(permissions, 'chat:use')")
    for table in TABLES:
        unsecure_tenant_table(table)
    op.drop_index(op.f("ix_thread_follow_user_id"), table_name="thread_follow")
    op.drop_index(op.f("ix_thread_follow_tenant_id"), table_name="thread_follow")
    op.drop_table("thread_follow")
    op.drop_index(op.f("ix_reaction_tenant_id"), table_name="reaction")
    op.drop_index(op.f("ix_reaction_message_id"), table_name="reaction")
    op.drop_table("reaction")
    op.drop_index(op.f("ix_message_edit_tenant_id"), table_name="message_edit")
    op.drop_index(op.f("ix_message_edit_message_id"), table_name="message_edit")
    op.drop_table("message_edit")
    op.drop_index(op.f("ix_attachment_tenant_id"), table_name="attachment")
    op.drop_index(op.f("ix_attachment_message_id"), table_name="attachment")
    op.drop_index(op.f("ix_attachment_conversation_id"), table_name="attachment")
    op.drop_table("attachment")
    op.drop_index("ix_message_thread", table_name="message")
    op.drop_index(op.f("ix_message_tenant_id"), table_name="message")
    op.drop_index("ix_message_search", table_name="message", postgresql_using="gin")
    op.drop_index("ix_message_conversation_seq", table_name="message")
    op.drop_table("message")
    op.drop_index(op.f("ix_conversation_member_user_id"), table_name="conversation_member")
    op.drop_index(op.f("ix_conversation_member_tenant_id"), table_name="conversation_member")
    op.drop_index(op.f("ix_conversation_member_conversation_id"), table_name="conversation_member")
    op.drop_table("conversation_member")
    op.drop_index(op.f("ix_conversation_event_tenant_id"), table_name="conversation_event")
    op.drop_table("conversation_event")
    op.drop_index(op.f("ix_conversation_tenant_id"), table_name="conversation")
    op.drop_table("conversation")
