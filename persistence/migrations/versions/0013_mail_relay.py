"""Each tenant's own outbound mail relay, its password sealed at rest.

Revision ID: 0013m
Revises: 0012s
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0013m"
down_revision: str | None = "0012s"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "mail_relay",
        sa.Column("id", GUID, nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(length=20), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("password_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("from_address", sa.String(length=254), nullable=False),
        sa.Column("from_name", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name="fk_mail_relay_tenant_id_tenant", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_mail_relay"),
        sa.UniqueConstraint("tenant_id", name="uq_mail_relay_tenant_id"),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name="ck_mail_relay_port_range"),
        sa.CheckConstraint(
            "security IN ('starttls', 'starttls_required', 'tls', 'none')", name="ck_mail_relay_security_known"
        ),
    )
    op.create_index("ix_mail_relay_tenant_id", "mail_relay", ["tenant_id"])
    secure_tenant_table("mail_relay")


def downgrade() -> None:
    unsecure_tenant_table("mail_relay")
    op.drop_table("mail_relay")
