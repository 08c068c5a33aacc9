"""Audit entries linked to their tenant's chain after commit: unlinked rows allowed, and the one function that links them.

A request's transaction now inserts its audit entries with ``seq``, ``prev_hash`` and ``hash`` NULL
and takes no lock; a linker fills them in later through ``fieldhub_audit_link`` (security definer,
as the owner), which locks the tenant's head, numbers the given entries from it and chains each
``prev_hash`` to the hash before, so the application role can neither rewrite a linked entry nor
fork the chain: it loses INSERT and UPDATE on ``audit_chain`` and may insert ``audit_event`` rows
without their chained columns only. (A column added to ``audit_event`` later must be granted
INSERT here by its migration.) Downgrading links every pending entry first, then restores NOT NULL.

Revision ID: 0014a
Revises: 0013m
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op

from persistence.audit_chain import GENESIS, entry_hash

revision: str = "0014a"
down_revision: str | None = "0013m"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"
CHAINED = ("seq", "prev_hash", "hash")
# Every column of audit_event but the chained ones.
INSERTABLE = (
    "id, tenant_id, sa_orm_sentinel, occurred_at, actor_user_id, action, outcome, target_type, target_id, ip, "
    "user_agent, request_id, details, personal_digest, personal_salt, pseudonymised_by"
)
SIGNATURE = "fieldhub_audit_link(bigint, uuid[], bytea[])"


def upgrade() -> None:
    for column in CHAINED:
        op.alter_column("audit_event", column, nullable=True)
    op.create_check_constraint(
        op.f("ck_audit_event_linked_whole"),
        "audit_event",
        "(seq IS NULL) = (prev_hash IS NULL) AND (seq IS NULL) = (hash IS NULL)",
    )
    # What a linker reads: the tenant's unlinked entries in id order.
    op.create_index(
        "ix_audit_event_unlinked", "audit_event", ["tenant_id", "id"], postgresql_where=sa.text("seq IS NULL")
    )
    op.execute(f"REVOKE INSERT ON audit_event FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT ({INSERTABLE}) ON audit_event TO {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE ON audit_chain FROM {APP_ROLE}")
    _create_link_function()


def _create_link_function() -> None:
    # The caller hashes (in Python, persistence.audit_chain.entry_hash) from the head it read
    # without the lock; NULL tells it the head has moved since, and the lock is then already its
    # own, so its second reading stands. The hashes themselves are checked by `fieldhub audit verify`.
    op.execute(
        r"""
        CREATE FUNCTION fieldhub_audit_link(p_head_seq bigint, p_ids uuid[], p_hashes bytea[])
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            t uuid := fieldhub_current_tenant();
            v_count integer := cardinality(p_ids);
            v_head_seq bigint;
            v_head_hash bytea;
            v_linked bigint;
        BEGIN
            IF t IS NULL THEN
                RAISE EXCEPTION 'fieldhub_audit_link: no tenant set';
            END IF;
            IF v_count IS NULL OR v_count = 0 OR v_count <> cardinality(p_hashes)
               OR EXISTS (SELECT FROM unnest(p_hashes) AS h WHERE h IS NULL OR octet_length(h) <> 32) THEN
                RAISE EXCEPTION 'fieldhub_audit_link: one 32-byte hash per entry';
            END IF;
            SELECT head_seq, head_hash INTO v_head_seq, v_head_hash FROM audit_chain WHERE tenant_id = t FOR UPDATE;
            IF NOT FOUND THEN
                INSERT INTO audit_chain (id, tenant_id, head_seq, head_hash, base_seq, base_hash)
                VALUES (gen_random_uuid(), t, 0, decode(repeat('00', 32), 'hex'), 0, decode(repeat('00', 32), 'hex'))
                ON CONFLICT (tenant_id) DO NOTHING;
                SELECT head_seq, head_hash INTO v_head_seq, v_head_hash
                FROM audit_chain WHERE tenant_id = t FOR UPDATE;
            END IF;
            IF v_head_seq <> p_head_seq THEN
                RETURN NULL;
            END IF;
            UPDATE audit_event AS e
            SET seq = v_head_seq + l.ord, prev_hash = COALESCE(l.prev, v_head_hash), hash = l.entry_hash
            FROM (
                SELECT u.entry_id, u.entry_hash, u.ord, lag(u.entry_hash) OVER (ORDER BY u.ord) AS prev
                FROM unnest(p_ids, p_hashes) WITH ORDINALITY AS u(entry_id, entry_hash, ord)
            ) AS l
            WHERE e.tenant_id = t AND e.id = l.entry_id AND e.seq IS NULL;
            GET DIAGNOSTICS v_linked = ROW_COUNT;
            IF v_linked <> v_count THEN
                RAISE EXCEPTION 'fieldhub_audit_link: % of % entries are not unlinked entries of this tenant',
                    v_count - v_linked, v_count;
            END IF;
            UPDATE audit_chain SET head_seq = v_head_seq + v_count, head_hash = p_hashes[v_count]
            WHERE tenant_id = t;
            RETURN v_head_seq + v_count;
        END $$
        """
    )
    op.execute(f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO {APP_ROLE}")


def downgrade() -> None:
    _link_every_pending_entry()
    op.execute(f"DROP FUNCTION IF EXISTS {SIGNATURE}")
    op.execute(f"GRANT INSERT, UPDATE ON audit_chain TO {APP_ROLE}")
    op.execute(f"REVOKE INSERT ({INSERTABLE}) ON audit_event FROM {APP_ROLE}")
    op.execute(f"GRANT INSERT ON audit_event TO {APP_ROLE}")
    op.drop_index("ix_audit_event_unlinked", table_name="audit_event")
    op.drop_constraint(op.f("ck_audit_event_linked_whole"), "audit_event", type_="check")
    for column in CHAINED:
        op.alter_column("audit_event", column, nullable=False)


def _link_every_pending_entry() -> None:
    """The older schema has no unlinked entries: chain them, per tenant in id order, as the linker would."""
    bind = op.get_bind()
    bind.execute(sa.text("LOCK TABLE audit_chain IN EXCLUSIVE MODE"))
    rows = bind.execute(sa.text("SELECT * FROM audit_event WHERE seq IS NULL ORDER BY tenant_id, id")).mappings().all()
    for tenant_id, entries in groupby(rows, key=lambda row: row["tenant_id"]):
        head = bind.execute(
            sa.text("SELECT head_seq, head_hash FROM audit_chain WHERE tenant_id = :t"), {"t": tenant_id}
        ).one_or_none()
        seq, prev_hash = (head[0], bytes(head[1])) if head is not None else (0, GENESIS)
        updates: list[dict[str, Any]] = []
        for entry in entries:
            seq += 1
            hashed = entry_hash(prev_hash, {**entry, "seq": seq})
            updates.append({"id": entry["id"], "seq": seq, "prev": prev_hash, "hash": hashed})
            prev_hash = hashed
        bind.execute(
            sa.text("UPDATE audit_event SET seq = :seq, prev_hash = :prev, hash = :hash WHERE id = :id"), updates
        )
        bind.execute(
            sa.text(
                "INSERT INTO audit_chain (id, tenant_id, head_seq, head_hash, base_seq, base_hash) "
                "VALUES (gen_random_uuid(), :t, :seq, :hash, 0, :genesis) "
                "ON CONFLICT (tenant_id) DO UPDATE SET head_seq = excluded.head_seq, head_hash = excluded.head_hash"
            ),
            {"t": tenant_id, "seq": seq, "hash": prev_hash, "genesis": GENESIS},
        )
