"""Public holidays, files on tasks, cancelled shifts, and the attendance changes the daily summary rebuilds from.

Revision ID: 0011f
Revises: 0010
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0011f"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUID = advanced_alchemy.types.guid.GUID(length=16)
UTC_TIME = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)
TABLES = ("public_holiday", "task_attachment", "attendance_change")

# Statement-level triggers with transition tables: a bulk insert of stays writes one statement of changes,
# not one per row. Each change is a clock-in instant (old and new) whose local day must be rebuilt; an update
# that keeps a stay's person and clock-in writes only the old instant, which is also the new one.
CHANGE_FUNCTIONS = {
    "fieldhub_attendance_record_changed": """
        IF TG_OP = 'INSERT' THEN
            INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at)
            SELECT gen_random_uuid(), n.tenant_id, n.user_id, n.clock_in_at FROM changed_new AS n;
            RETURN NULL;
        END IF;
        IF TG_OP = 'UPDATE' THEN
            INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at)
            SELECT gen_random_uuid(), n.tenant_id, n.user_id, n.clock_in_at FROM changed_new AS n
            WHERE NOT EXISTS (
                SELECT 1 FROM changed_old AS o
                WHERE o.id = n.id AND o.user_id = n.user_id AND o.clock_in_at = n.clock_in_at
            );
        END IF;
        -- Stays deleted with their person (or tenant) need no rebuild: the summary rows go with them.
        INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at)
        SELECT gen_random_uuid(), o.tenant_id, o.user_id, o.clock_in_at FROM changed_old AS o
        WHERE EXISTS (SELECT 1 FROM app_user AS u WHERE u.id = o.user_id);
    """,
    "fieldhub_attendance_break_changed": """
        IF TG_OP <> 'DELETE' THEN
            INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at)
            SELECT gen_random_uuid(), r.tenant_id, r.user_id, r.clock_in_at FROM attendance_record AS r
            WHERE r.id IN (SELECT attendance_id FROM changed_new);
        ELSE
            -- A stay deleted with its breaks is gone already; its own trigger wrote its change.
            INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at)
            SELECT gen_random_uuid(), r.tenant_id, r.user_id, r.clock_in_at FROM attendance_record AS r
            WHERE r.id IN (SELECT attendance_id FROM changed_old);
        END IF;
    """,
}
TRIGGERS = {
    "attendance_record": "fieldhub_attendance_record_changed",
    "attendance_break": "fieldhub_attendance_break_changed",
}


def _common(table: str, *, audited: bool = True) -> list[Any]:
    columns: list[Any] = [
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
    ]
    if audited:
        columns += [
            sa.Column("created_at", UTC_TIME, nullable=False),
            sa.Column("updated_at", UTC_TIME, nullable=False),
        ]
    return [
        *columns,
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=f"fk_{table}_tenant_id_tenant", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def upgrade() -> None:
    op.create_table(
        "public_holiday",
        sa.Column("id", GUID, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("workplace_id", GUID, nullable=True),
        *_common("public_holiday"),
        sa.CheckConstraint("region IS NULL OR workplace_id IS NULL", name="ck_public_holiday_one_scope"),
        sa.ForeignKeyConstraint(
            ["workplace_id"], ["workplace.id"], name="fk_public_holiday_workplace_id_workplace", ondelete="CASCADE"
        ),
    )
    op.create_index(
        "uq_public_holiday_scope",
        "public_holiday",
        ["tenant_id", "day", "region", "workplace_id"],
        unique=True,
        postgresql_nulls_not_distinct=True,
    )
    op.create_index("ix_public_holiday_workplace_id", "public_holiday", ["workplace_id"])
    op.create_index("ix_public_holiday_tenant_id", "public_holiday", ["tenant_id"])
    op.create_table(
        "task_attachment",
        sa.Column("id", GUID, nullable=False),
        sa.Column("task_id", GUID, nullable=False),
        sa.Column("attachment_id", GUID, nullable=False),
        sa.Column("added_by", GUID, nullable=True),
        *_common("task_attachment"),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"], name="fk_task_attachment_task_id_task", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["attachment_id"], ["attachment.id"], name="fk_task_attachment_attachment_id_attachment", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["added_by"], ["app_user.id"], name="fk_task_attachment_added_by_app_user", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("attachment_id", name="uq_task_attachment_attachment"),
    )
    op.create_index("ix_task_attachment_task_id", "task_attachment", ["task_id"])
    op.create_index("ix_task_attachment_tenant_id", "task_attachment", ["tenant_id"])
    op.create_table(
        "attendance_change",
        sa.Column("id", GUID, nullable=False),
        sa.Column("user_id", GUID, nullable=False),
        sa.Column("clock_in_at", UTC_TIME, nullable=False),
        *_common("attendance_change", audited=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name="fk_attendance_change_user_id_app_user", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_attendance_change_tenant_id", "attendance_change", ["tenant_id"])
    op.add_column("shift", sa.Column("cancelled_at", UTC_TIME, nullable=True))
    op.add_column("shift", sa.Column("cancelled_by", GUID, nullable=True))
    op.add_column("shift", sa.Column("cancel_reason", sa.String(length=500), nullable=False, server_default=""))
    op.alter_column("shift", "cancel_reason", server_default=None)
    op.create_foreign_key(
        "fk_shift_cancelled_by_app_user", "shift", "app_user", ["cancelled_by"], ["id"], ondelete="SET NULL"
    )
    for table in TABLES:
        secure_tenant_table(table)
    for name, body in CHANGE_FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
    for table, function in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {table}_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS changed_new "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_updated AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS changed_old "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    # Stays changed since a tenant's last summary refresh are owed a rebuild under the new scheme too.
    op.execute(
        "INSERT INTO attendance_change (id, tenant_id, user_id, clock_in_at) "
        "SELECT gen_random_uuid(), r.tenant_id, r.user_id, r.clock_in_at FROM attendance_record AS r "
        "WHERE r.updated_at > coalesce((SELECT max(d.updated_at) FROM attendance_daily AS d "
        "WHERE d.tenant_id = r.tenant_id), '-infinity'::timestamptz)"
    )


def downgrade() -> None:
    for table in TRIGGERS:
        for event in ("inserted", "updated", "deleted"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{event} ON {table}")
    for name in CHANGE_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_constraint("fk_shift_cancelled_by_app_user", "shift", type_="foreignkey")
    for column in ("cancel_reason", "cancelled_by", "cancelled_at"):
        op.drop_column("shift", column)
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
