"""Privacy and the tamper-evident audit: the audit hash chain (existing entries chained), privacy settings, exports.

Revision ID: 0008v
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from itertools import groupby
from typing import Any

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from persistence.audit_chain import GENESIS, entry_hash, personal_digest
from persistence.migrations.rls import secure_tenant_table, unsecure_tenant_table

revision: str = "0008v"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "fieldhub_app"
TABLES = ("audit_chain", "privacy_settings", "privacy_export")
CHAIN_COLUMNS = ("seq", "prev_hash", "hash", "personal_digest")
# Pseudonymisation rewrites these and nothing else; the chained columns stay append-only.
PSEUDONYMISABLE = "ip, user_agent, details, personal_salt, pseudonymised_by"
PERMISSION = "privacy:manage"

GUID = advanced_alchemy.types.guid.GUID(length=16)
TIMESTAMP = advanced_alchemy.types.datetime.DateTimeUTC(timezone=True)


def _tenant_columns(table: str) -> list[Any]:
    return [
        sa.Column("id", GUID, nullable=False),
        sa.Column("tenant_id", GUID, nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenant.id"], name=op.f(f"fk_{table}_tenant_id_tenant"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_event", sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_event", sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_event", sa.Column("personal_digest", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_event", sa.Column("personal_salt", sa.LargeBinary(length=16), nullable=True))
    op.add_column("audit_event", sa.Column("pseudonymised_by", sa.BigInteger(), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("base_seq", sa.BigInteger(), nullable=False),
        sa.Column("base_hash", sa.LargeBinary(length=32), nullable=False),
        *_tenant_columns("audit_chain"),
        sa.UniqueConstraint("tenant_id", name="uq_audit_chain_tenant_id"),
    )
    op.create_index(op.f("ix_audit_chain_tenant_id"), "audit_chain", ["tenant_id"], unique=False)
    op.create_table(
        "privacy_settings",
        sa.Column("message_erasure", sa.String(length=16), nullable=False),
        sa.Column("retention_days", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("updated_by", GUID, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        *_tenant_columns("privacy_settings"),
        sa.UniqueConstraint("tenant_id", name="uq_privacy_settings_tenant_id"),
    )
    op.create_index(op.f("ix_privacy_settings_tenant_id"), "privacy_settings", ["tenant_id"], unique=False)
    op.create_table(
        "privacy_export",
        sa.Column("user_id", GUID, nullable=False),
        sa.Column("requested_by", GUID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("ready_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        *_tenant_columns("privacy_export"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_privacy_export_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["app_user.id"], name=op.f("fk_privacy_export_requested_by_app_user"), ondelete="SET NULL"
        ),
    )
    op.create_index("ix_privacy_export_user", "privacy_export", ["user_id"], unique=False)
    op.create_index(op.f("ix_privacy_export_tenant_id"), "privacy_export", ["tenant_id"], unique=False)
    for table in TABLES:
        secure_tenant_table(table)

    _chain_existing_entries()
    for column in CHAIN_COLUMNS:
        op.alter_column("audit_event", column, nullable=False)
    op.create_unique_constraint("uq_audit_event_tenant_seq", "audit_event", ["tenant_id", "seq"])

    op.execute(f"GRANT UPDATE ({PSEUDONYMISABLE}) ON audit_event TO {APP_ROLE}")
    # The head is only ever advanced; deleting it would restart a tenant's chain.
    op.execute(f"REVOKE DELETE ON audit_chain FROM {APP_ROLE}")
    _create_prune_function()
    op.execute(
        sa.text(
            "UPDATE role SET permissions = array_append(permissions, CAST(:permission AS varchar(64))) "
            "WHERE is_builtin AND name = 'admin' AND NOT CAST(:permission AS varchar(64)) = ANY (permissions)"
        ).bindparams(permission=PERMISSION)
    )


def _chain_existing_entries() -> None:
    """Chain every existing entry, per tenant, in the order it happened."""
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT * FROM audit_event ORDER BY tenant_id, occurred_at, id")).mappings().all()
    for tenant_id, entries in groupby(rows, key=lambda row: row["tenant_id"]):
        prev_hash, seq = GENESIS, 0
        updates: list[dict[str, Any]] = []
        for entry in entries:
            seq += 1
            salt = os.urandom(16)
            details = json.loads(entry["details"]) if isinstance(entry["details"], str) else entry["details"]
            digest = personal_digest(salt, ip=entry["ip"], user_agent=entry["user_agent"], details=details)
            chained = {**entry, "seq": seq, "personal_digest": digest}
            entry_hash_value = entry_hash(prev_hash, chained)
            updates.append(
                {
                    "id": entry["id"],
                    "seq": seq,
                    "prev": prev_hash,
                    "hash": entry_hash_value,
                    "digest": digest,
                    "salt": salt,
                }
            )
            prev_hash = entry_hash_value
        bind.execute(
            sa.text(
                "UPDATE audit_event SET seq = :seq, prev_hash = :prev, hash = :hash, personal_digest = :digest, "
                "personal_salt = :salt WHERE id = :id"
            ),
            updates,
        )
        bind.execute(
            sa.text(
                "INSERT INTO audit_chain (id, tenant_id, head_seq, head_hash, base_seq, base_hash) "
                "VALUES (gen_random_uuid(), :tenant, :seq, :hash, 0, :genesis)"
            ),
            {"tenant": tenant_id, "seq": seq, "hash": prev_hash, "genesis": GENESIS},
        )


def _create_prune_function() -> None:
    # Retention deletes the oldest entries of the current tenant's chain (a prefix, never a middle
    # part) and moves the chain's base to the last one deleted. The application has no DELETE on
    # audit_event; this is its only way to remove entries.
    op.execute(
        """
        CREATE FUNCTION fieldhub_audit_prune(p_before timestamptz, p_limit integer)
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
        DECLARE
            t uuid := fieldhub_current_tenant();
            chain_base bigint;
            chain_head bigint;
            keep_from bigint;
            last_seq bigint;
            last_hash bytea;
            removed bigint;
        BEGIN
            IF t IS NULL THEN
                RAISE EXCEPTION 'fieldhub_audit_prune: no tenant set';
            END IF;
            SELECT base_seq, head_seq INTO chain_base, chain_head FROM audit_chain WHERE tenant_id = t FOR UPDATE;
            IF NOT FOUND THEN
                RETURN 0;
            END IF;
            SELECT min(seq) INTO keep_from FROM audit_event WHERE tenant_id = t AND occurred_at >= p_before;
            last_seq := LEAST(COALESCE(keep_from - 1, chain_head), chain_base + p_limit);
            IF last_seq <= chain_base THEN
                RETURN 0;
            END IF;
            SELECT hash INTO last_hash FROM audit_event WHERE tenant_id = t AND seq = last_seq;
            DELETE FROM audit_event WHERE tenant_id = t AND seq <= last_seq;
            GET DIAGNOSTICS removed = ROW_COUNT;
            UPDATE audit_chain SET base_seq = last_seq, base_hash = last_hash WHERE tenant_id = t;
            RETURN removed;
        END $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION fieldhub_audit_prune(timestamptz, integer) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION fieldhub_audit_prune(timestamptz, integer) TO {APP_ROLE}")


def downgrade() -> None:
    op.execute(
        sa.text("UPDATE role SET permissions = array_remove(permissions, CAST(:permission AS varchar(64)))").bindparams(
            permission=PERMISSION
        )
    )
    op.execute("DROP FUNCTION IF EXISTS fieldhub_audit_prune(timestamptz, integer)")
    op.execute(f"REVOKE UPDATE ({PSEUDONYMISABLE}) ON audit_event FROM {APP_ROLE}")
    op.drop_constraint("uq_audit_event_tenant_seq", "audit_event", type_="unique")
    for column in ("pseudonymised_by", "personal_salt", *reversed(CHAIN_COLUMNS)):
        op.drop_column("audit_event", column)
    for table in reversed(TABLES):
        unsecure_tenant_table(table)
        op.drop_table(table)
