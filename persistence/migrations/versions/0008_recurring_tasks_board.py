"""Recurring task templates, tasks assigned to a role, due-time notification marks, and the live board's permission.

Revision ID: 0008t
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0008t"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
BOARD_PERMISSION = "board:read"
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
BOARD_ROLES = ("supervisor", "admin")


def upgrade() -> None:
    op.create_table(
        "task_template",
        sa.Column("id", GUID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("labels", sa.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("requires_photo", sa.Boolean(), nullable=False),
        sa.Column("checklist", sa.ARRAY(sa.String(length=500)), nullable=False),
        sa.Column("assignee_id", GUID, nullable=True),
        sa.Column("assignee_role_id", GUID, nullable=True),
        sa.Column("workplace_id", GUID, nullable=True),
        sa.Column("frequency", sa.String(length=16), nullable=False),
        sa.Column("weekdays", sa.ARRAY(sa.Integer()), nullable=False),
        sa.Column("month_day", sa.Integer(), nullable=True),
        sa.Column("due_time", sa.Time(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", GUID, nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["app_user.id"], name=op.f("fk_task_template_assignee_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_role_id"], ["role.id"], name=op.f("fk_task_template_assignee_role_id_role"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["app_user.id"], name=op.f("fk_task_template_created_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_task_template_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name=op.f("fk_task_template_workplace_id_workplace"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_template")),
    )
    op.create_index(op.f("ix_task_template_tenant_id"), "task_template", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_task_template_workplace_id"), "task_template", ["workplace_id"], unique=False)
    secure_tenant_table("task_template")

    op.add_column("task", sa.Column("assignee_role_id", GUID, nullable=True))
    op.add_column("task", sa.Column("template_id", GUID, nullable=True))
    op.add_column("task", sa.Column("occurrence_at", UTC_TIME, nullable=True))
    op.add_column("task", sa.Column("due_soon_notified_for", UTC_TIME, nullable=True))
    op.add_column("task", sa.Column("overdue_notified_for", UTC_TIME, nullable=True))
    op.create_foreign_key(
        op.f("fk_task_assignee_role_id_role"), "task", "role", ["assignee_role_id"], ["id"], ondelete="SET NULL"
    )
    op.create_foreign_key(
        op.f("fk_task_template_id_task_template"),
        "task",
        "task_template",
        ["template_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_unique_constraint("uq_task_occurrence", "task", ["template_id", "occurrence_at"])
    # "My tasks, soonest due first" and the worker's scan for due and overdue tasks.
    op.create_index("ix_task_assignee_due", "task", ["assignee_id", "due_at", "id"], unique=False)
    op.create_index(
        "ix_task_open_due",
        "task",
        ["tenant_id", "due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('todo', 'in_progress', 'blocked') AND due_at IS NOT NULL"),
    )

    grant = sa.text(
        "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
        "WHERE is_builtin AND name = :role AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
    )
    for role in BOARD_ROLES:
        op.execute(grant.bindparams(permission=BOARD_PERMISSION, role=role))


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))").bindparams(
            permission=BOARD_PERMISSION
        )
    )
    op.drop_index("ix_task_open_due", table_name="task")
    op.drop_index("ix_task_assignee_due", table_name="task")
    op.drop_constraint("uq_task_occurrence", "task", type_="unique")
    op.drop_constraint(op.f("fk_task_template_id_task_template"), "task", type_="foreignkey")
    op.drop_constraint(op.f("fk_task_assignee_role_id_role"), "task", type_="foreignkey")
    for column in ("overdue_notified_for", "due_soon_notified_for", "occurrence_at", "template_id", "assignee_role_id"):
        op.drop_column("task", column)
    unsecure_tenant_table("task_template")
    op.drop_table("task_template")
