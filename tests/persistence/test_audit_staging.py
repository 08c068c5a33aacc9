"""Audit entries recorded outside a savepoint are staged and written with one statement: before the
transaction's next statement or at its commit, after its own pending rows, sealed as the ORM seals them,
and dropped with a rollback; inside a savepoint they roll back with it. A driver transaction stages them too."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select
from uuid_utils.compat import uuid7

from api.audit import Origin, record
from persistence.audit_chain import personal_digest
from persistence.audit_link import linking_done
from persistence.models import AuditEvent, Tenant

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime
    from persistence.prepared import DriverTransaction
    from tests.kit import TenantKit


class Abandon(Exception):
    """The handler's failure, ending its transaction."""


def audit(session: AsyncSession | DriverTransaction, tenant_id: object, action: str) -> None:
    record(
        session,
        tenant_id=tenant_id,  # type: ignore[arg-type]
        action=action,
        actor_user_id=None,
        origin=Origin(ip="203.0.113.9", user_agent="phone"),
        details={"b": 2, "a": "é"},
    )


def opened(runtime: Runtime, kind: str, tenant_id: UUID) -> AbstractAsyncContextManager[Any]:
    """A transaction as ``tenant_id``: a Session's (``session``) or a driver transaction (``driver``)."""
    if kind == "driver":
        return runtime.db.driver_transaction(tenant_id=tenant_id)
    return runtime.db.transaction(tenant_id=tenant_id)


async def actions(runtime: Runtime, tenant_id: object) -> list[str]:
    async with runtime.db.transaction(tenant_id=tenant_id) as session:  # type: ignore[arg-type]
        rows = await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
        return list(rows)


async def test_a_staged_entry_is_seen_by_the_transactions_next_statement(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant.id, "test.staged")
        seen = await session.scalar(select(func.count()).where(AuditEvent.action == "test.staged"))
    assert seen == 1


@pytest.mark.parametrize("kind", ["session", "driver"])
async def test_a_staged_entry_is_sealed_as_the_orm_seals_one(runtime: Runtime, tenant: TenantKit, kind: str) -> None:
    async with opened(runtime, kind, tenant.id) as transaction:
        audit(transaction, tenant.id, "test.sealed")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        entry = await session.scalar(select(AuditEvent).where(AuditEvent.action == "test.sealed"))
    assert entry is not None
    assert entry.personal_salt is not None
    assert entry.details == {"a": "é", "b": 2}
    assert entry.personal_digest == personal_digest(
        entry.personal_salt, ip="203.0.113.9", user_agent="phone", details=entry.details
    )


@pytest.mark.parametrize("kind", ["session", "driver"])
async def test_a_staged_entry_is_linked_after_commit(runtime: Runtime, tenant: TenantKit, kind: str) -> None:
    async with opened(runtime, kind, tenant.id) as transaction:
        audit(transaction, tenant.id, "test.linked")
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seq = await session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.linked"))
    assert seq is not None


@pytest.mark.parametrize("kind", ["session", "driver"])
async def test_a_rolled_back_transaction_writes_no_staged_entry(runtime: Runtime, tenant: TenantKit, kind: str) -> None:
    async def abandon() -> None:
        async with opened(runtime, kind, tenant.id) as transaction:
            audit(transaction, tenant.id, "test.abandoned")
            raise Abandon

    with pytest.raises(Abandon):
        await abandon()
    assert "test.abandoned" not in await actions(runtime, tenant.id)


async def test_an_entry_in_a_rolled_back_savepoint_goes_with_it_and_the_one_before_stays(
    runtime: Runtime, tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant.id, "test.before")
        savepoint = await session.begin_nested()
        audit(session, tenant.id, "test.inside")
        await session.flush()
        await savepoint.rollback()
    written = await actions(runtime, tenant.id)
    assert "test.before" in written
    assert "test.inside" not in written


async def test_an_entry_naming_a_tenant_created_in_its_transaction_is_written_after_it(runtime: Runtime) -> None:
    tenant_id = uuid7()
    async with runtime.db.transaction(tenant_id=tenant_id) as session:
        session.add(Tenant(id=tenant_id, slug=f"t-{tenant_id.hex[:12]}", name="Staged"))
        audit(session, tenant_id, "test.signup")
    assert await actions(runtime, tenant_id) == ["test.signup"]
