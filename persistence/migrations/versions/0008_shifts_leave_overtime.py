"""Shifts, breaks, the work policy, overtime records, leave types and requests; geofence flags on attendance.

Revision ID: 0008a
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0008a"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("leave_type", "work_policy", "leave_request", "overtime_record", "shift", "attendance_break")
NEW_PERMISSIONS = (
    "attendance:correct",
    "attendance:admin",
    "shifts:read",
    "shifts:write",
    "leave:request",
    "leave:read",
    "leave:admin",
)
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
GRANTS: dict[str, tuple[str, ...]] = {
    "staff": ("shifts:read", "leave:request"),
    "supervisor": ("attendance:correct", "shifts:read", "shifts:write", "leave:request", "leave:read"),
    "admin": NEW_PERMISSIONS,
}
# The default leave types (api.leave.defaults) for tenants that exist already.
LEAVE_TYPES = (
    ("annual", "Annual leave", 25.0, "monthly", False),
    ("sick", "Sick leave", 10.0, "yearly", True),
    ("unpaid", "Unpaid leave", 0.0, "yearly", True),
)


def upgrade() -> None:
    op.create_table(
        "leave_type",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("yearly_days", sa.Float(), nullable=False),
        sa.Column("accrual", sa.String(length=8), nullable=False),
        sa.Column("allow_negative", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_leave_type_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_type")),
        sa.UniqueConstraint("tenant_id", "key", name="uq_leave_type_key"),
    )
    op.create_index(op.f("ix_leave_type_tenant_id"), "leave_type", ["tenant_id"], unique=False)
    op.create_table(
        "work_policy",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("geofence", sa.String(length=8), nullable=False),
        sa.Column("late_after_minutes", sa.Integer(), nullable=False),
        sa.Column("escalate_after_minutes", sa.Integer(), nullable=False),
        sa.Column("rest_days", sa.ARRAY(sa.String(length=3)), nullable=False),
        sa.Column("overtime_daily_minutes", sa.Integer(), nullable=True),
        sa.Column("overtime_weekly_minutes", sa.Integer(), nullable=True),
        sa.Column("overtime_on_rest_days", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_work_policy_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_policy")),
    )
    op.create_index(op.f("ix_work_policy_tenant_id"), "work_policy", ["tenant_id"], unique=False)
    op.create_index("uq_work_policy_tenant", "work_policy", ["tenant_id"], unique=True)
    op.create_table(
        "leave_request",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("leave_type_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("part", sa.String(length=4), nullable=False),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("part = 'full' OR start_date = end_date", name=op.f("ck_leave_request_half_day_alone")),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_leave_request_dates_in_order")),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_leave_request_decided_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["leave_type_id"],
            ["leave_type.id"],
            name=op.f("fk_leave_request_leave_type_id_leave_type"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_leave_request_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_leave_request_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_request")),
    )
    op.create_index("ix_leave_request_dates", "leave_request", ["start_date", "end_date"], unique=False)
    op.create_index(op.f("ix_leave_request_leave_type_id"), "leave_request", ["leave_type_id"], unique=False)
    op.create_index(op.f("ix_leave_request_tenant_id"), "leave_request", ["tenant_id"], unique=False)
    op.create_index("ix_leave_request_user_dates", "leave_request", ["user_id", "start_date", "end_date"], unique=False)
    op.create_table(
        "overtime_record",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_overtime_record_decided_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_overtime_record_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_overtime_record_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_overtime_record")),
    )
    op.create_index(op.f("ix_overtime_record_tenant_id"), "overtime_record", ["tenant_id"], unique=False)
    op.create_index("ix_overtime_user_period", "overtime_record", ["user_id", "period_start"], unique=False)
    op.create_index(
        "uq_overtime_pending",
        "overtime_record",
        ["user_id", "kind", "period_start"],
        unique=True,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "shift",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("workplace_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("starts_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("ends_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("weekdays", sa.ARRAY(sa.String(length=3)), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("until_date", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(kind = 'one_off' AND starts_at IS NOT NULL AND ends_at > starts_at) OR (kind = 'weekly' AND start_time IS NOT NULL AND duration_minutes > 0 AND from_date IS NOT NULL AND (until_date IS NULL OR until_date >= from_date))",
            name=op.f("ck_shift_shape"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_shift_created_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_shift_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_shift_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name=op.f("fk_shift_workplace_id_workplace"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift")),
    )
    op.create_index(op.f("ix_shift_tenant_id"), "shift", ["tenant_id"], unique=False)
    op.create_index("ix_shift_user", "shift", ["user_id"], unique=False)
    op.create_index("ix_shift_workplace", "shift", ["workplace_id"], unique=False)
    op.create_table(
        "attendance_break",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("attendance_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ended_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendance_id"],
            ["attendance_record.id"],
            name=op.f("fk_attendance_break_attendance_id_attendance_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_attendance_break_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_attendance_break_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_break")),
    )
    op.create_index(op.f("ix_attendance_break_attendance_id"), "attendance_break", ["attendance_id"], unique=False)
    op.create_index(op.f("ix_attendance_break_tenant_id"), "attendance_break", ["tenant_id"], unique=False)
    op.create_index("ix_attendance_break_user_started", "attendance_break", ["user_id", "started_at"], unique=False)
    op.create_index(
        "uq_attendance_break_open",
        "attendance_break",
        ["attendance_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    # Existing attendance was never flagged: the default fills it, then the application writes the value.
    for column in ("clock_in_flagged", "clock_out_flagged"):
        op.add_column("attendance_record", sa.Column(column, sa.Boolean(), nullable=False, server_default=sa.false()))
        op.alter_column("attendance_record", column, server_default=None)

    for table in TABLES:
        secure_tenant_table(table)
    grant = sa.text(
        "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
        "WHERE is_builtin AND name = :role AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
    )
    for role, permissions in GRANTS.items():
        for permission in permissions:
            op.execute(grant.bindparams(permission=permission, role=role))
    seed = sa.text(
        "INSERT INTO leave_type (id, tenant_id, key, name, yearly_days, accrual, allow_negative, active, "
        "created_at, updated_at) "
        "SELECT gen_random_uuid(), id, :key, :name, :days, :accrual, :negative, true, now(), now() FROM tenant "
        "ON CONFLICT (tenant_id, key) DO NOTHING"
    )
    for key, name, days, accrual, negative in LEAVE_TYPES:
        op.execute(seed.bindparams(key=key, name=name, days=days, accrual=accrual, negative=negative))


def downgrade() -> None:
    for permission in NEW_PERMISSIONS:
        op.execute(
            sa.text(
                "UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))"
            ).bindparams(permission=permission)
        )
    op.drop_column("attendance_record", "clock_out_flagged")
    op.drop_column("attendance_record", "clock_in_flagged")
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
