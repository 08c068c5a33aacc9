"""Message search through a security-definer function, so the GIN index serves it under row-level security.

Under RLS a query condition can only become an index condition ahead of the policy's own when its
function is LEAKPROOF, and ``@@`` (``ts_match_vq``) is not: the application role's search walked
every message of the tenant testing ``@@`` row by row (docs/benchmarks.md, 46 ms for a rare word in
1,000,000 messages). Run as the owner (whose ``owner_access`` policy is ``true``), the planner is
free to pick the GIN index for rare words and the newest-first index walk for common ones. The
function carries the tenant fence by hand on every table it reads and returns ids only; the caller
loads the rows through the RLS-guarded ORM, so the tenant is checked twice.

Revision ID: 0008h
Revises: 0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008h"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"

SIGNATURE = "fieldhub_search_messages(tsquery, uuid, uuid, uuid, timestamptz, timestamptz, integer)"


def upgrade() -> None:
    # PL/pgSQL EXECUTE plans each call with its values, so the planner sees the actual words (and
    # their frequency in the column's statistics) and the optional filters are only added when set.
    op.execute(
        """
        CREATE FUNCTION fieldhub_search_messages(
            p_query tsquery,
            p_reader uuid,
            p_conversation uuid,
            p_author uuid,
            p_since timestamptz,
            p_until timestamptz,
            p_limit integer
        ) RETURNS SETOF uuid
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            tenant uuid := fieldhub_current_tenant();
            statement text;
        BEGIN
            IF tenant IS NULL THEN
                RETURN;
            END IF;
            statement := $q$
                SELECT m.id FROM message AS m
                WHERE m.tenant_id = $1
                  AND m.search_vector @@ $2
                  AND m.deleted_at IS NULL
                  AND m.conversation_id IN (
                      SELECT c.id FROM conversation AS c
                      WHERE c.tenant_id = $1
                        AND (c.kind = 'public' OR EXISTS (
                            SELECT 1 FROM conversation_member AS cm
                            WHERE cm.tenant_id = $1 AND cm.conversation_id = c.id AND cm.user_id = $3)))
                  AND (m.author_id = $3 OR NOT EXISTS (
                      SELECT 1 FROM message_moderation AS mm WHERE mm.tenant_id = $1 AND mm.message_id = m.id))
            $q$;
            IF p_conversation IS NOT NULL THEN
                statement := statement || ' AND m.conversation_id = $4';
            END IF;
            IF p_author IS NOT NULL THEN
                statement := statement || ' AND m.author_id = $5';
            END IF;
            IF p_since IS NOT NULL THEN
                statement := statement || ' AND m.created_at >= $6';
            END IF;
            IF p_until IS NOT NULL THEN
                statement := statement || ' AND m.created_at < $7';
            END IF;
            -- Within one conversation seq is its order, and (conversation_id, seq) is indexed.
            IF p_conversation IS NOT NULL THEN
                statement := statement || ' ORDER BY m.seq DESC LIMIT $8';
            ELSE
                statement := statement || ' ORDER BY m.created_at DESC, m.id DESC LIMIT $8';
            END IF;
            RETURN QUERY EXECUTE statement
                USING tenant, p_query, p_reader, p_conversation, p_author, p_since, p_until, p_limit;
        END
        $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
