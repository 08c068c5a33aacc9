"""Join the chat-files and notifications branches; index what retention sweeps scan by age.

Revision ID: 0005
Revises: 0003n, 0004a
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: tuple[str, ...] = ("0003n", "0004a")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_message_tenant_created", "message", ["tenant_id", "created_at"], unique=False)
    op.create_index(
        "ix_conversation_event_tenant_created", "conversation_event", ["tenant_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_attachment_unattached",
        "attachment",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("message_id IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_attachment_unattached", table_name="attachment", postgresql_where=sa.text("message_id IS NULL"))
    op.drop_index("ix_conversation_event_tenant_created", table_name="conversation_event")
    op.drop_index("ix_message_tenant_created", table_name="message")
