"""Chat files and retention: the per-tenant retention policy, and the tenant list chat maintenance walks.

Revision ID: 0004a
Revises: 0003c
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0004a"
down_revision: str | None = "0003c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"


def upgrade() -> None:
    op.create_table(
        "chat_retention_policy",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("message_days", sa.Integer(), nullable=True),
        sa.Column("file_days", sa.Integer(), nullable=True),
        sa.Column("updated_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_chat_retention_policy_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_retention_policy")),
        sa.UniqueConstraint("tenant_id", name="uq_chat_retention_policy_tenant_id"),
    )
    op.create_index(op.f("ix_chat_retention_policy_tenant_id"), "chat_retention_policy", ["tenant_id"], unique=False)
    secure_tenant_table("chat_retention_policy")
    # Scheduled chat maintenance serves every tenant: listing them is the one step that crosses
    # tenants, so it is a security-definer function returning ids and nothing else. Each tenant's
    # sweep then runs as that tenant.
    op.execute(
        """
        CREATE FUNCTION fieldhub_active_tenants()
        RETURNS SETOF uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT t.id FROM tenant AS t WHERE t.status = 'active' ORDER BY t.id
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION fieldhub_active_tenants() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION fieldhub_active_tenants() TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS fieldhub_active_tenants()")
    unsecure_tenant_table("chat_retention_policy")
    op.drop_index(op.f("ix_chat_retention_policy_tenant_id"), table_name="chat_retention_policy")
    op.drop_table("chat_retention_policy")
