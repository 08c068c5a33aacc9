"""The durable job queue: a tenant table, a narrow cross-tenant claim function, a wake-up notification.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("finished_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("tenant_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column("created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenant.id"], name=op.f("fk_job_tenant_id_tenant"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("tenant_id", "kind", "idempotency_key", name=op.f("uq_job_tenant_id")),
    )
    op.create_index(
        "ix_job_claimable", "job", ["run_at"], unique=False, postgresql_where=sa.text("status IN ('queued', 'running')")
    )
    op.create_index(op.f("ix_job_tenant_id"), "job", ["tenant_id"], unique=False)
    secure_tenant_table("job")
    # Workers serve every tenant: claiming is the one step that crosses tenants, so it is a
    # security-definer function that hands out due jobs and nothing else. Everything a job does
    # afterwards runs as the job's tenant.
    op.execute(
        """
        CREATE FUNCTION fieldhub_claim_jobs(p_kinds text[], p_limit int, p_lease_seconds double precision)
        RETURNS TABLE (id uuid, tenant_id uuid, kind varchar, payload jsonb, attempts int, max_attempts int)
        LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            UPDATE job AS j
               SET status = 'running',
                   attempts = j.attempts + 1,
                   locked_until = now() + make_interval(secs => p_lease_seconds),
                   updated_at = now()
             WHERE j.id IN (
                   SELECT c.id FROM job AS c
                    WHERE c.kind = ANY (p_kinds)
                      AND c.run_at <= now()
                      AND (c.status = 'queued' OR (c.status = 'running' AND c.locked_until < now()))
                    ORDER BY c.run_at
                    LIMIT p_limit
                      FOR UPDATE SKIP LOCKED)
            RETURNING j.id, j.tenant_id, j.kind, j.payload, j.attempts, j.max_attempts
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION fieldhub_claim_jobs(text[], int, double precision) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION fieldhub_claim_jobs(text[], int, double precision) TO {APP_ROLE}")
    # LISTEN/NOTIFY is only a wake-up hint, sent at commit; workers poll as well.
    op.execute(
        """
        CREATE FUNCTION fieldhub_job_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('fieldhub_jobs', '');
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER job_notify AFTER INSERT ON job FOR EACH STATEMENT EXECUTE FUNCTION fieldhub_job_notify()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS job_notify ON job")
    op.execute("DROP FUNCTION IF EXISTS fieldhub_job_notify()")
    op.execute("DROP FUNCTION IF EXISTS fieldhub_claim_jobs(text[], int, double precision)")
    unsecure_tenant_table("job")
    op.drop_index(op.f("ix_job_tenant_id"), table_name="job")
    op.drop_index("ix_job_claimable", table_name="job", postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.drop_table("job")
