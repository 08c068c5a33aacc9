"""Reports: the daily attendance summary, report schedules and their runs; the reports permissions.

Revision ID: 0009r
Revises: 0009
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0009r"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
TABLES = ("attendance_daily", "report_schedule", "report_run")
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
GRANTS: dict[str, tuple[str, ...]] = {"supervisor": ("reports:read",), "admin": ("reports:read", "reports:all")}


def _common(table: str) -> list[sa.Column[Any] | sa.Constraint]:
    return [
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=f"fk_{table}_tenant_id_tenant", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "attendance_daily",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", GUID, nullable=False),
        sa.Column("workplace_id", GUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("stays", sa.Integer(), nullable=False),
        sa.Column("worked_minutes", sa.Integer(), nullable=False),
        sa.Column("break_minutes", sa.Integer(), nullable=False),
        sa.Column("first_in_at", UTC_TIME, nullable=False),
        sa.Column("last_out_at", UTC_TIME, nullable=True),
        *_common("attendance_daily"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_attendance_daily_user_id_app_user", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name="fk_attendance_daily_workplace_id_workplace", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("tenant_id", "user_id", "workplace_id", "day", name="uq_attendance_daily_key"),
    )
    op.create_index("ix_attendance_daily_tenant_id", "attendance_daily", ["tenant_id"])
    op.create_index("ix_attendance_daily_day", "attendance_daily", ["tenant_id", "day"])
    op.create_table(
        "report_schedule",
        sa.Column("id", GUID, nullable=False),
        sa.Column("owner_id", GUID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("recipients", postgresql.ARRAY(sa.String(length=320)), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_common("report_schedule"),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["app_user.id"], name="fk_report_schedule_owner_id_app_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_report_schedule_tenant_id", "report_schedule", ["tenant_id"])
    op.create_index("ix_report_schedule_owner_id", "report_schedule", ["owner_id"])
    op.create_table(
        "report_run",
        sa.Column("id", GUID, nullable=False),
        sa.Column("schedule_id", GUID, nullable=False),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=True),
        sa.Column("output", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        *_common("report_run"),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["report_schedule.id"],
            name="fk_report_run_schedule_id_report_schedule",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("schedule_id", "due_at", name="uq_report_run_due"),
    )
    op.create_index("ix_report_run_tenant_id", "report_run", ["tenant_id"])
    op.create_index("ix_report_run_schedule_id", "report_run", ["schedule_id"])
    for table in TABLES:
        secure_tenant_table(table)
    grant = sa.text(
        "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
        "WHERE is_builtin AND name = :role AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
    )
    for role, permissions in GRANTS.items():
        for permission in permissions:
            op.execute(grant.bindparams(permission=permission, role=role))


def downgrade() -> None:
    for permission in ("reports:read", "reports:all"):
        op.execute(
            sa.text(
                "UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))"
            ).bindparams(permission=permission)
        )
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
