"""Single occurrences of weekly shifts called off.

Revision ID: 0012s
Revises: 0011f
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0012s"
down_revision: str | None = "0011f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def upgrade() -> None:
    op.create_table(
        "shift_skip",
        sa.Column("id", GUID, nullable=False),
        sa.Column("shift_id", GUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("starts_at", UTC_TIME, nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("cancelled_by", GUID, nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name="fk_shift_skip_tenant_id_tenant", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["shift_id"], ["shift.id"], name="fk_shift_skip_shift_id_shift", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["app_user.id"], name="fk_shift_skip_cancelled_by_app_user", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_shift_skip"),
        sa.UniqueConstraint("shift_id", "day", name="uq_shift_skip_day"),
    )
    op.create_index("ix_shift_skip_tenant_id", "shift_skip", ["tenant_id"])
    secure_tenant_table("shift_skip")


def downgrade() -> None:
    unsecure_tenant_table("shift_skip")
    op.drop_table("shift_skip")
