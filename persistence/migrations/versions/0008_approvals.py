"""Approvals: workflows per request type, requests and their approvers, history, delegations, action links.

Revision ID: 0008p
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0008p"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "approval_workflow",
    "approval_delegation",
    "approval_request",
    "approval_approver",
    "approval_event",
    "approval_link",
)
# What the built-in roles of existing tenants gain (api.auth.permissions.BUILTIN_ROLES for new ones).
GRANTS: dict[str, tuple[str, ...]] = {
    "staff": ("approvals:use",),
    "supervisor": ("approvals:use",),
    "moderator": ("approvals:use",),
    "safety": ("approvals:use",),
    "admin": ("approvals:use", "approvals:manage"),
}
# The default workflows existing tenants get (api.approvals.defaults.DEFAULT_WORKFLOWS for new ones).
_MANAGER = {"name": "Manager", "rule": "manager", "quorum": "any", "timeout_seconds": 86400}
_HEAD = {"name": "Department head", "rule": "department_head", "quorum": "any", "timeout_seconds": 172800}
DEFAULT_WORKFLOWS: dict[str, tuple[str, list[dict[str, object]]]] = {
    "leave": ("Leave", [_MANAGER]),
    "overtime": ("Overtime", [_MANAGER]),
    "attendance_correction": ("Attendance correction", [_MANAGER]),
    "maintenance_cost": ("Maintenance over a cost", [_MANAGER, _HEAD]),
}
EXPIRES_AFTER_SECONDS = 14 * 86400


def upgrade() -> None:
    op.create_table(
        "approval_workflow",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("expires_after_seconds", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_workflow_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_workflow")),
        sa.UniqueConstraint("tenant_id", "kind", name="uq_approval_workflow_kind"),
    )
    op.create_index(op.f("ix_approval_workflow_tenant_id"), "approval_workflow", ["tenant_id"], unique=False)
    op.create_table(
        "approval_delegation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("delegator_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("delegate_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("starts_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("ends_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("revoked_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint("delegator_id <> delegate_id", name=op.f("ck_approval_delegation_not_self")),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_approval_delegation_range_ordered")),
        sa.ForeignKeyConstraint(
            ["delegate_id"],
            ["app_user.id"],
            name=op.f("fk_approval_delegation_delegate_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["delegator_id"],
            ["app_user.id"],
            name=op.f("fk_approval_delegation_delegator_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_delegation_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_delegation")),
    )
    op.create_index(op.f("ix_approval_delegation_delegate_id"), "approval_delegation", ["delegate_id"], unique=False)
    op.create_index(op.f("ix_approval_delegation_delegator_id"), "approval_delegation", ["delegator_id"], unique=False)
    op.create_index(op.f("ix_approval_delegation_tenant_id"), "approval_delegation", ["tenant_id"], unique=False)
    op.create_table(
        "approval_request",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("workflow_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("requester_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("submitted_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.Column("step_started_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("nudges", sa.Integer(), nullable=False),
        sa.Column("next_nudge_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("decided_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'changes_requested', 'cancelled', 'expired')",
            name=op.f("ck_approval_request_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["app_user.id"], name=op.f("fk_approval_request_decided_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["app_user.id"],
            name=op.f("fk_approval_request_requester_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by"],
            ["app_user.id"],
            name=op.f("fk_approval_request_submitted_by_app_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_request_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workflow_id"],
            ["approval_workflow.id"],
            name=op.f("fk_approval_request_workflow_id_approval_workflow"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
    )
    op.create_index(op.f("ix_approval_request_kind"), "approval_request", ["kind"], unique=False)
    op.create_index(
        "ix_approval_request_open",
        "approval_request",
        ["tenant_id", "next_nudge_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'changes_requested')"),
    )
    op.create_index(op.f("ix_approval_request_requester_id"), "approval_request", ["requester_id"], unique=False)
    op.create_index(op.f("ix_approval_request_subject_id"), "approval_request", ["subject_id"], unique=False)
    op.create_index(op.f("ix_approval_request_tenant_id"), "approval_request", ["tenant_id"], unique=False)
    op.create_table(
        "approval_approver",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("request_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("approver_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("acted_by", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acted_by"], ["app_user.id"], name=op.f("fk_approval_approver_acted_by_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["approver_id"], ["app_user.id"], name=op.f("fk_approval_approver_approver_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_request.id"],
            name=op.f("fk_approval_approver_request_id_approval_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_approver_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_approver")),
        sa.UniqueConstraint("request_id", "step", "approver_id", name="uq_approval_approver"),
    )
    op.create_index(op.f("ix_approval_approver_approver_id"), "approval_approver", ["approver_id"], unique=False)
    op.create_index(op.f("ix_approval_approver_request_id"), "approval_approver", ["request_id"], unique=False)
    op.create_index(op.f("ix_approval_approver_tenant_id"), "approval_approver", ["tenant_id"], unique=False)
    op.create_table(
        "approval_event",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("request_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("occurred_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("actor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("on_behalf_of", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_approval_event_actor_id_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of"], ["app_user.id"], name=op.f("fk_approval_event_on_behalf_of_app_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_request.id"],
            name=op.f("fk_approval_event_request_id_approval_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_event_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_event")),
    )
    op.create_index(op.f("ix_approval_event_request_id"), "approval_event", ["request_id"], unique=False)
    op.create_index(op.f("ix_approval_event_tenant_id"), "approval_event", ["tenant_id"], unique=False)
    op.create_table(
        "approval_link",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("request_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("user_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_request.id"],
            name=op.f("fk_approval_link_request_id_approval_request"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f("fk_approval_link_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_approval_link_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_link")),
    )
    op.create_index(op.f("ix_approval_link_request_id"), "approval_link", ["request_id"], unique=False)
    op.create_index(op.f("ix_approval_link_tenant_id"), "approval_link", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_approval_link_user_id"), "approval_link", ["user_id"], unique=False)

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
        "INSERT INTO approval_workflow (id, tenant_id, kind, name, steps, expires_after_seconds, active, "
        "created_at, updated_at) SELECT gen_random_uuid(), id, :kind, :name, CAST(:steps AS jsonb), :expires, "
        "true, now(), now() FROM tenant ON CONFLICT DO NOTHING"
    )
    for kind, (name, steps) in DEFAULT_WORKFLOWS.items():
        op.execute(seed.bindparams(kind=kind, name=name, steps=json.dumps(steps), expires=EXPIRES_AFTER_SECONDS))


def downgrade() -> None:
    for permission in ("approvals:use", "approvals:manage"):
        op.execute(
            sa.text(
                "UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))"
            ).bindparams(permission=permission)
        )
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
