"""Queue statistics for metrics: a narrow cross-tenant function giving counts and the oldest due job's age.

Revision ID: 0006q
Revises: 0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006q"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"


def upgrade() -> None:
    # Like fieldhub_claim_jobs, a security-definer function that crosses tenants and returns
    # aggregates only (no payloads, no tenant ids). It reads queued and running jobs, which the
    # partial index ix_job_claimable covers, never the finished history.
    op.execute(
        """
        CREATE FUNCTION fieldhub_job_queue_stats()
        RETURNS TABLE (kind varchar, ready bigint, scheduled bigint, oldest_ready_seconds double precision)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT j.kind,
                   count(*) FILTER (WHERE j.run_at <= now()),
                   count(*) FILTER (WHERE j.run_at > now()),
                   coalesce(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.run_at <= now())), 0)::float8
              FROM job AS j
             WHERE j.status = 'queued'
             GROUP BY j.kind
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION fieldhub_job_queue_stats() FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION fieldhub_job_queue_stats() TO {APP_ROLE}")


def downgrade() -> None:
    op.execute("DROP FUNCTION IF EXISTS fieldhub_job_queue_stats()")
