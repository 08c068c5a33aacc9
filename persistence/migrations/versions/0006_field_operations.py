"""Field operations: workplaces and assignments, attendance, tasks with dependencies, checklists, comments, timers.

Revision ID: 0006f
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0006f"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "workplace",
    "workplace_assignment",
    "attendance_record",
    "task",
    "task_dependency",
    "task_checklist_item",
    "task_comment",
    "task_time_entry",
)
FIELD_PERMISSIONS = (
    "workplaces:read",
    "workplaces:write",
    "attendance:clock",
    "attendance:read",
    "tasks:read",
    "tasks:work",
    "tasks:write",
)
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
GRANTS: dict[str, tuple[str, ...]] = {
    "staff": ("workplaces:read", "attendance:clock", "tasks:read", "tasks:work"),
    "supervisor": FIELD_PERMISSIONS,
    "moderator": ("workplaces:read",),
    "admin": FIELD_PERMISSIONS,
}


def upgrade() -> None:
    op.create_table(
        "workplace",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("geofence_radius_m", sa.Integer(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("opening_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("department_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["department.id"],
            name=op.f("fk_workplace_department_id_department"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_workplace_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workplace")),
        sa.UniqueConstraint("tenant_id", "code", name="uq_workplace_code"),
    )
    op.create_index(op.f("ix_workplace_department_id"), "workplace", ["department_id"], unique=False)
    op.create_index(op.f("ix_workplace_tenant_id"), "workplace", ["tenant_id"], unique=False)
    op.create_table(
        "attendance_record",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("workplace_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("clock_in_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("clock_in_received_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("clock_in_offline", sa.Boolean(), nullable=False),
        sa.Column("clock_in_latitude", sa.Float(), nullable=False),
        sa.Column("clock_in_longitude", sa.Float(), nullable=False),
        sa.Column("clock_in_accuracy_m", sa.Float(), nullable=True),
        sa.Column("clock_in_distance_m", sa.Float(), nullable=False),
        sa.Column("clock_out_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("clock_out_received_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("clock_out_offline", sa.Boolean(), nullable=False),
        sa.Column("clock_out_latitude", sa.Float(), nullable=True),
        sa.Column("clock_out_longitude", sa.Float(), nullable=True),
        sa.Column("clock_out_accuracy_m", sa.Float(), nullable=True),
        sa.Column("clock_out_distance_m", sa.Float(), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_attendance_record_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_attendance_record_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"],
            ["workplace.id"],
            name=op.f("fk_attendance_record_workplace_id_workplace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance_record")),
    )
    op.create_index(op.f("ix_attendance_record_tenant_id"), "attendance_record", ["tenant_id"], unique=False)
    op.create_index("ix_attendance_user_clock_in", "attendance_record", ["user_id", "clock_in_at"], unique=False)
    op.create_index(
        "ix_attendance_workplace_clock_in", "attendance_record", ["workplace_id", "clock_in_at"], unique=False
    )
    op.create_index(
        "uq_attendance_open",
        "attendance_record",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("clock_out_at IS NULL"),
    )
    op.create_table(
        "workplace_assignment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("workplace_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ended_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("assigned_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("ended_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["app_user.id"],
            name=op.f("fk_workplace_assignment_assigned_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["ended_by"], ["app_user.id"], name=op.f("fk_workplace_assignment_ended_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_workplace_assignment_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_workplace_assignment_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"],
            ["workplace.id"],
            name=op.f("fk_workplace_assignment_workplace_id_workplace"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workplace_assignment")),
    )
    op.create_index(op.f("ix_workplace_assignment_tenant_id"), "workplace_assignment", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_workplace_assignment_user_id"), "workplace_assignment", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_workplace_assignment_workplace_id"), "workplace_assignment", ["workplace_id"], unique=False
    )
    op.create_index(
        "uq_workplace_assignment_current",
        "workplace_assignment",
        ["workplace_id", "user_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_table(
        "task",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("assignee_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("workplace_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("created_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("due_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("labels", sa.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("requires_photo", sa.Boolean(), nullable=False),
        sa.Column("photo_attachment_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("completed_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_task_assignee_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_task_created_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["photo_attachment_id"],
            ["attachment.id"],
            name=op.f("fk_task_photo_attachment_id_attachment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name=op.f("fk_task_workplace_id_workplace"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    op.create_index("ix_task_assignee_status", "task", ["assignee_id", "status"], unique=False)
    op.create_index("ix_task_tenant_due", "task", ["tenant_id", "due_at"], unique=False)
    op.create_index(op.f("ix_task_tenant_id"), "task", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_task_workplace_id"), "task", ["workplace_id"], unique=False)
    op.create_table(
        "task_checklist_item",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("task_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=500), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("done_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("done_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["done_by"], ["app_user.id"], name=op.f("fk_task_checklist_item_done_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_checklist_item_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_checklist_item_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_checklist_item")),
    )
    op.create_index(op.f("ix_task_checklist_item_task_id"), "task_checklist_item", ["task_id"], unique=False)
    op.create_index(op.f("ix_task_checklist_item_tenant_id"), "task_checklist_item", ["tenant_id"], unique=False)
    op.create_table(
        "task_comment",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("task_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("author_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_task_comment_author_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_comment_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_comment_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_comment")),
    )
    op.create_index(op.f("ix_task_comment_task_id"), "task_comment", ["task_id"], unique=False)
    op.create_index(op.f("ix_task_comment_tenant_id"), "task_comment", ["tenant_id"], unique=False)
    op.create_table(
        "task_dependency",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("task_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("depends_on_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("task_id <> depends_on_id", name=op.f("ck_task_dependency_not_self")),
        sa.ForeignKeyConstraint(
            ["depends_on_id"], ["task.id"], name=op.f("fk_task_dependency_depends_on_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_dependency_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_dependency_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_dependency")),
        sa.UniqueConstraint("task_id", "depends_on_id", name="uq_task_dependency_edge"),
    )
    op.create_index(op.f("ix_task_dependency_depends_on_id"), "task_dependency", ["depends_on_id"], unique=False)
    op.create_index(op.f("ix_task_dependency_task_id"), "task_dependency", ["task_id"], unique=False)
    op.create_index(op.f("ix_task_dependency_tenant_id"), "task_dependency", ["tenant_id"], unique=False)
    op.create_table(
        "task_time_entry",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("task_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ended_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_task_time_entry_task_id_task"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_time_entry_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_task_time_entry_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_time_entry")),
    )
    op.create_index(op.f("ix_task_time_entry_task_id"), "task_time_entry", ["task_id"], unique=False)
    op.create_index(op.f("ix_task_time_entry_tenant_id"), "task_time_entry", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_task_time_entry_user_id"), "task_time_entry", ["user_id"], unique=False)
    op.create_index(
        "uq_task_time_entry_running",
        "task_time_entry",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    for table in TABLES:
        secure_tenant_table(table)
    # Tenants that exist already get the new permissions on their built-in roles, as new tenants do.
    grant = sa.text(
        "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
        "WHERE is_builtin AND name = :role AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
    )
    for role, permissions in GRANTS.items():
        for permission in permissions:
            op.execute(grant.bindparams(permission=permission, role=role))


def downgrade() -> None:
    for permission in FIELD_PERMISSIONS:
        op.execute(
            sa.text(
                "UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))"
            ).bindparams(permission=permission)
        )
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
