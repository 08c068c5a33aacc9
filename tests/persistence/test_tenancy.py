"""Row-level security: the application's role sees and writes only the tenant of its transaction."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession

from api.runtime import Runtime
from persistence.backup import libpq_url
from persistence.base import tenant_tables
from persistence.models import AuditEvent, Department, User
from persistence.tenancy import APP_ROLE, bind_tenant
from tests.kit import TenantKit


async def test_app_role_is_neither_owner_superuser_nor_rls_bypasser(database_url: str) -> None:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        role = await connection.fetchrow(
            "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1", APP_ROLE
        )
        owned = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1", APP_ROLE
        )
    finally:
        await connection.close()
    assert role is not None
    assert dict(role) == {"rolsuper": False, "rolbypassrls": False, "rolcreaterole": False, "rolcreatedb": False}
    assert owned == 0


async def test_every_tenant_table_has_forced_row_level_security(database_url: str) -> None:
    connection = await asyncpg.connect(libpq_url(database_url))
    try:
        rows = await connection.fetch(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY($1::text[])",
            [*tenant_tables(), "tenant"],
        )
    finally:
        await connection.close()
    assert len(rows) == len(tenant_tables()) + 1
    assert [r["relname"] for r in rows if not (r["relrowsecurity"] and r["relforcerowsecurity"])] == []


async def test_a_transaction_without_tenant_sees_no_rows(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(User)) == len(tenant.users)


async def test_a_forged_id_of_another_tenant_reads_nothing(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        assert await session.get(User, other_tenant.users["admin"]) is None


async def test_an_update_aimed_at_another_tenant_changes_nothing(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    victim = other_tenant.users["staff"]
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        result = await session.execute(update(User).where(User.id == victim).values(name="hijacked"))
        assert result.rowcount == 0  # type: ignore[attr-defined]
    async with runtime.db.transaction(tenant_id=other_tenant.id) as session:
        assert (await session.get_one(User, victim)).name == "Staff"


async def test_inserting_a_row_for_another_tenant_is_refused(
    runtime: Runtime, tenant: TenantKit, other_tenant: TenantKit
) -> None:
    with pytest.raises(DBAPIError, match="row-level security"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            session.add(Department(tenant_id=other_tenant.id, name="planted"))
    async with runtime.db.transaction(tenant_id=other_tenant.id) as session:
        planted = await session.scalar(select(Department).where(Department.name == "planted"))
        assert planted is None


async def test_app_role_cannot_switch_row_level_security_off(runtime: Runtime) -> None:
    with pytest.raises(ProgrammingError, match="must be owner"):
        async with runtime.db.transaction() as session:
            await session.execute(text("ALTER TABLE app_user DISABLE ROW LEVEL SECURITY"))


async def test_app_role_cannot_rewrite_the_audit_trail(runtime: Runtime, tenant: TenantKit) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await session.execute(update(AuditEvent).values(action="erased"))


async def test_tenant_setting_does_not_outlive_its_transaction(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.engine.connect() as connection:
        session = AsyncSession(bind=connection)
        bind_tenant(session, tenant.id)
        async with session.begin():
            assert await session.scalar(text("SELECT fieldhub_current_tenant()")) == tenant.id
        await session.close()
        # Same pooled connection, next transaction: the setting was transaction-local.
        assert await connection.scalar(text("SELECT fieldhub_current_tenant()")) is None
