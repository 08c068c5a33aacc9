"""Row-level security for migrations: every tenant table gets ENABLE, FORCE and the same two policies."""

from __future__ import annotations

from alembic import op


def secure_tenant_table(table: str, *, column: str = "tenant_id") -> None:
    """Fence ``table`` to the transaction's tenant for reads (USING) and writes (WITH CHECK).

    FORCE binds the table's owner too, so the owner gets its own policy: migrations, backups and
    the security-definer login lookup run as the owner and see every row. The application's role
    is not the owner and sees only the tenant set by ``set_config('fieldhub.tenant_id', ..., true)``;
    with none set it sees nothing.
    """
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING ({column} = fieldhub_current_tenant()) WITH CHECK ({column} = fieldhub_current_tenant())"
    )
    op.execute(f"CREATE POLICY owner_access ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def unsecure_tenant_table(table: str) -> None:
    """Undo :func:`secure_tenant_table` (for downgrades)."""
    op.execute(f"DROP POLICY IF EXISTS owner_access ON {table}")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
