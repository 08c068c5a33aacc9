"""Assets with their condition history, safety incidents with photos, people and lifecycle steps, and
maintenance requests with SLA due times, status history and comments; the built-in safety role.

Revision ID: 0008s
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0008s"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
TABLES = (
    "asset",
    "asset_condition_entry",
    "incident",
    "incident_photo",
    "incident_person",
    "incident_step",
    "maintenance_request",
    "maintenance_step",
    "maintenance_comment",
    "maintenance_sla",
)
SITE_PERMISSIONS = (
    "assets:read",
    "assets:write",
    "incidents:report",
    "incidents:read",
    "incidents:manage",
    "maintenance:read",
    "maintenance:work",
    "maintenance:write",
)
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
GRANTS: dict[str, tuple[str, ...]] = {
    "staff": ("assets:read", "incidents:report", "maintenance:read", "maintenance:work"),
    "supervisor": SITE_PERMISSIONS,
    "admin": SITE_PERMISSIONS,
}
SAFETY_ROLE = "safety"
SAFETY_DESCRIPTION = "Safety officer: alerted to critical incidents, investigates and closes them."
SAFETY_PERMISSIONS = (
    "tenant:read",
    "users:read",
    "departments:read",
    "chat:use",
    "workplaces:read",
    "assets:read",
    "incidents:report",
    "incidents:read",
    "incidents:manage",
    "maintenance:read",
    "maintenance:work",
)


def upgrade() -> None:
    op.create_table(
        "maintenance_sla",
        sa.Column("id", GUID, nullable=False),
        sa.Column("low_hours", sa.Integer(), nullable=False),
        sa.Column("normal_hours", sa.Integer(), nullable=False),
        sa.Column("high_hours", sa.Integer(), nullable=False),
        sa.Column("urgent_hours", sa.Integer(), nullable=False),
        sa.Column("updated_by", GUID, nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "low_hours > 0 AND normal_hours > 0 AND high_hours > 0 AND urgent_hours > 0",
            name=op.f("ck_maintenance_sla_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_maintenance_sla_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["app_user.id"], name=op.f("fk_maintenance_sla_updated_by_app_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_sla")),
        sa.UniqueConstraint("tenant_id", name="uq_maintenance_sla_tenant_id"),
    )
    op.create_index(op.f("ix_maintenance_sla_tenant_id"), "maintenance_sla", ["tenant_id"], unique=False)
    op.create_table(
        "asset",
        sa.Column("id", GUID, nullable=False),
        sa.Column("workplace_id", GUID, nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.String(length=100), nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_asset_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name=op.f("fk_asset_workplace_id_workplace"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint("tenant_id", "serial", name="uq_asset_serial"),
    )
    op.create_index(op.f("ix_asset_tenant_id"), "asset", ["tenant_id"], unique=False)
    op.create_index("ix_asset_workplace_status", "asset", ["workplace_id", "status"], unique=False)
    op.create_table(
        "incident",
        sa.Column("id", GUID, nullable=False),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("workplace_id", GUID, nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("reported_by", GUID, nullable=True),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("(latitude IS NULL) = (longitude IS NULL)", name=op.f("ck_incident_point_complete")),
        sa.ForeignKeyConstraint(
            ["reported_by"], ["app_user.id"], name=op.f("fk_incident_reported_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_incident_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name=op.f("fk_incident_workplace_id_workplace"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    op.create_index(
        "ix_incident_open",
        "incident",
        ["tenant_id", "occurred_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.create_index(op.f("ix_incident_reported_by"), "incident", ["reported_by"], unique=False)
    op.create_index(op.f("ix_incident_tenant_id"), "incident", ["tenant_id"], unique=False)
    op.create_index("ix_incident_workplace_status", "incident", ["workplace_id", "status"], unique=False)
    op.create_table(
        "asset_condition_entry",
        sa.Column("id", GUID, nullable=False),
        sa.Column("asset_id", GUID, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("changed_by", GUID, nullable=True),
        sa.Column("changed_at", UTC_TIME, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_asset_condition_entry_asset_id_asset"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["app_user.id"],
            name=op.f("fk_asset_condition_entry_changed_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_asset_condition_entry_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_condition_entry")),
    )
    op.create_index(
        "ix_asset_condition_entry_asset_changed", "asset_condition_entry", ["asset_id", "changed_at"], unique=False
    )
    op.create_index(op.f("ix_asset_condition_entry_tenant_id"), "asset_condition_entry", ["tenant_id"], unique=False)
    op.create_table(
        "incident_person",
        sa.Column("id", GUID, nullable=False),
        sa.Column("incident_id", GUID, nullable=False),
        sa.Column("user_id", GUID, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_person_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_incident_person_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_incident_person_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_person")),
        sa.UniqueConstraint("incident_id", "user_id", name="uq_incident_person"),
    )
    op.create_index(op.f("ix_incident_person_tenant_id"), "incident_person", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_incident_person_user_id"), "incident_person", ["user_id"], unique=False)
    op.create_table(
        "incident_photo",
        sa.Column("id", GUID, nullable=False),
        sa.Column("incident_id", GUID, nullable=False),
        sa.Column("attachment_id", GUID, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_incident_photo_attachment_id_attachment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_photo_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_incident_photo_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_photo")),
        sa.UniqueConstraint("attachment_id", name="uq_incident_photo_attachment"),
    )
    op.create_index(op.f("ix_incident_photo_incident_id"), "incident_photo", ["incident_id"], unique=False)
    op.create_index(op.f("ix_incident_photo_tenant_id"), "incident_photo", ["tenant_id"], unique=False)
    op.create_table(
        "incident_step",
        sa.Column("id", GUID, nullable=False),
        sa.Column("incident_id", GUID, nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=True),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("actor_id", GUID, nullable=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_incident_step_actor_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incident.id"], name=op.f("fk_incident_step_incident_id_incident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_incident_step_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_step")),
    )
    op.create_index("ix_incident_step_incident_at", "incident_step", ["incident_id", "at"], unique=False)
    op.create_index(op.f("ix_incident_step_tenant_id"), "incident_step", ["tenant_id"], unique=False)
    op.create_table(
        "maintenance_request",
        sa.Column("id", GUID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("asset_id", GUID, nullable=True),
        sa.Column("workplace_id", GUID, nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assignee_id", GUID, nullable=True),
        sa.Column("requested_by", GUID, nullable=True),
        sa.Column("due_at", UTC_TIME, nullable=False),
        sa.Column("breached_at", UTC_TIME, nullable=True),
        sa.Column("estimated_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("resolved_at", UTC_TIME, nullable=True),
        sa.Column("closed_at", UTC_TIME, nullable=True),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.CheckConstraint(
            "(asset_id IS NULL) <> (workplace_id IS NULL)", name=op.f("ck_maintenance_request_one_target")
        ),
        sa.CheckConstraint(
            "estimated_cost IS NULL OR estimated_cost >= 0", name=op.f("ck_maintenance_request_cost_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_maintenance_request_asset_id_asset"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["app_user.id"],
            name=op.f("fk_maintenance_request_assignee_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["app_user.id"],
            name=op.f("fk_maintenance_request_requested_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_maintenance_request_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workplace_id"],
            ["workplace.id"],
            name=op.f("fk_maintenance_request_workplace_id_workplace"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_request")),
    )
    op.create_index(op.f("ix_maintenance_request_asset_id"), "maintenance_request", ["asset_id"], unique=False)
    op.create_index(
        "ix_maintenance_request_assignee_status", "maintenance_request", ["assignee_id", "status"], unique=False
    )
    op.create_index(
        "ix_maintenance_request_breach",
        "maintenance_request",
        ["tenant_id", "due_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('open', 'in_progress', 'on_hold') AND breached_at IS NULL"),
    )
    op.create_index(op.f("ix_maintenance_request_tenant_id"), "maintenance_request", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_maintenance_request_workplace_id"), "maintenance_request", ["workplace_id"], unique=False)
    op.create_table(
        "maintenance_comment",
        sa.Column("id", GUID, nullable=False),
        sa.Column("request_id", GUID, nullable=False),
        sa.Column("author_id", GUID, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_maintenance_comment_author_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["maintenance_request.id"],
            name=op.f("fk_maintenance_comment_request_id_maintenance_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_maintenance_comment_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_comment")),
    )
    op.create_index(op.f("ix_maintenance_comment_request_id"), "maintenance_comment", ["request_id"], unique=False)
    op.create_index(op.f("ix_maintenance_comment_tenant_id"), "maintenance_comment", ["tenant_id"], unique=False)
    op.create_table(
        "maintenance_step",
        sa.Column("id", GUID, nullable=False),
        sa.Column("request_id", GUID, nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("actor_id", GUID, nullable=True),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_maintenance_step_actor_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["maintenance_request.id"],
            name=op.f("fk_maintenance_step_request_id_maintenance_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_maintenance_step_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_step")),
    )
    op.create_index("ix_maintenance_step_request_at", "maintenance_step", ["request_id", "at"], unique=False)
    op.create_index(op.f("ix_maintenance_step_tenant_id"), "maintenance_step", ["tenant_id"], unique=False)
    for table in TABLES:
        secure_tenant_table(table)
    grant = sa.text(
        "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
        "WHERE is_builtin AND name = :role AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
    )
    for role, permissions in GRANTS.items():
        for permission in permissions:
            op.execute(grant.bindparams(permission=permission, role=role))
    # Existing tenants get the safety role new tenants are created with (unless they named one so already).
    op.execute(
        sa.text(
            "INSERT INTO role (id, tenant_id, name, description, permissions, is_builtin, created_at, updated_at) "
            "SELECT gen_random_uuid(), tenant.id, :name, :description, CAST(:permissions AS varchar(64)[]), true, "
            "now(), now() FROM tenant "
            "WHERE NOT EXISTS (SELECT 1 FROM role WHERE role.tenant_id = tenant.id AND role.name = :name)"
        ).bindparams(name=SAFETY_ROLE, description=SAFETY_DESCRIPTION, permissions=sorted(SAFETY_PERMISSIONS))
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM role WHERE is_builtin AND name = :name").bindparams(name=SAFETY_ROLE))
    for permission in SITE_PERMISSIONS:
        op.execute(
            sa.text(
                "UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))"
            ).bindparams(permission=permission)
        )
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
