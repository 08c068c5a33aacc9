"""The delivery path's tables lose their indexes leading with ``tenant_id``; job claims can be HOT updates.

1. ``notification``, ``notification_delivery``, ``notification_inbox_event``, ``push_subscription``
   and ``job`` are read and written by id. Row-level security adds ``tenant_id = <tenant>`` to every
   statement, and before a table's first ANALYZE the planner took it for a selective condition: each
   batch of ids was looked up by scanning the tenant's whole table through ``ix_<table>_tenant_id``
   (or a unique key starting with ``tenant_id``), so the cost grew with the table. Those indexes
   go, and the unique keys of ``job`` and ``push_subscription`` put ``tenant_id`` last (``ON
   CONFLICT`` infers a unique index whatever its column order). Deleting a tenant now scans these
   tables once each (its foreign keys cascade), a rare administrative step.
2. A claim changes ``status``, ``attempts``, ``locked_until`` and ``updated_at``. With ``status`` in
   the claimable index's predicate no claim could be a heap-only (HOT) update; now the predicate is
   ``finished_at IS NULL`` (the same rows: a job is finished exactly when it is done or dead), and
   the table keeps 30 % of each page free for the claim's new row version.
3. ``notification_inbox`` (a row per user, its counters rewritten by every notification) keeps half
   of each page free, so that rewrite is a HOT update too: no counter is indexed.

Revision ID: 0014d
Revises: 0013m
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014d"
down_revision: str | None = "0013m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"

_CLAIM = """
    CREATE OR REPLACE FUNCTION fieldhub_claim_jobs(p_kinds text[], p_limit int, p_lease_seconds double precision)
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
                  AND {unfinished}
                  AND (c.status = 'queued' OR (c.status = 'running' AND c.locked_until < now()))
                ORDER BY c.run_at
                LIMIT p_limit
                  FOR UPDATE SKIP LOCKED)
        RETURNING j.id, j.tenant_id, j.kind, j.payload, j.attempts, j.max_attempts
    $$
"""
_STATS = """
    CREATE OR REPLACE FUNCTION fieldhub_job_queue_stats()
    RETURNS TABLE (kind varchar, ready bigint, scheduled bigint, oldest_ready_seconds double precision)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        SELECT j.kind,
               count(*) FILTER (WHERE j.run_at <= now()),
               count(*) FILTER (WHERE j.run_at > now()),
               coalesce(extract(epoch FROM now() - min(j.run_at) FILTER (WHERE j.run_at <= now())), 0)::float8
          FROM job AS j
         WHERE {unfinished} j.status = 'queued'
         GROUP BY j.kind
    $$
"""


_TENANT_INDEXES = ("notification", "notification_delivery", "notification_inbox_event", "push_subscription", "job")
_UNIQUE_KEYS = {
    # table: (old name, old columns, new name, new columns)
    "job": (
        "uq_job_tenant_id",
        ["tenant_id", "kind", "idempotency_key"],
        "uq_job_kind",
        ["kind", "idempotency_key", "tenant_id"],
    ),
    "push_subscription": (
        "uq_push_subscription_tenant_id",
        ["tenant_id", "endpoint"],
        "uq_push_subscription_endpoint",
        ["endpoint", "tenant_id"],
    ),
}


def upgrade() -> None:
    for table in _TENANT_INDEXES:
        op.drop_index(f"ix_{table}_tenant_id", table_name=table)
    for table, (old, _, new, columns) in _UNIQUE_KEYS.items():
        op.create_unique_constraint(new, table, columns)
        op.drop_constraint(old, table, type_="unique")
    # The new predicate must select exactly the rows the old one did.
    op.execute("UPDATE job SET finished_at = updated_at WHERE status IN ('done', 'dead') AND finished_at IS NULL")
    op.execute("UPDATE job SET finished_at = NULL WHERE status IN ('queued', 'running') AND finished_at IS NOT NULL")
    op.drop_index("ix_job_claimable", table_name="job", postgresql_where=sa.text("status IN ('queued', 'running')"))
    op.create_index(
        "ix_job_claimable", "job", ["run_at"], unique=False, postgresql_where=sa.text("finished_at IS NULL")
    )
    # Only pages written from now on keep the room; existing ones fill up as they are rewritten.
    op.execute("ALTER TABLE job SET (fillfactor = 70)")
    op.execute("ALTER TABLE notification_inbox SET (fillfactor = 50)")
    # CREATE OR REPLACE keeps the functions' owner and grants; the claim and the statistics name the
    # predicate so that the planner can use the partial index.
    op.execute(_CLAIM.format(unfinished="c.finished_at IS NULL"))
    op.execute(_STATS.format(unfinished="j.finished_at IS NULL AND"))


def downgrade() -> None:
    op.execute(_STATS.format(unfinished=""))
    op.execute(_CLAIM.format(unfinished="true"))
    op.execute("ALTER TABLE notification_inbox RESET (fillfactor)")
    op.execute("ALTER TABLE job RESET (fillfactor)")
    for table, (old, columns, new, _) in _UNIQUE_KEYS.items():
        op.create_unique_constraint(old, table, columns)
        op.drop_constraint(new, table, type_="unique")
    for table in _TENANT_INDEXES:
        op.create_index(f"ix_{table}_tenant_id", table, ["tenant_id"], unique=False)
    op.drop_index("ix_job_claimable", table_name="job", postgresql_where=sa.text("finished_at IS NULL"))
    op.create_index(
        "ix_job_claimable", "job", ["run_at"], unique=False, postgresql_where=sa.text("status IN ('queued', 'running')")
    )
