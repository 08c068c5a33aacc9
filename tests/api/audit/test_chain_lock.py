"""When an entry joins its tenant's chain: in the flush that commits it, so an open transaction that
has audited something does not make the tenant's other writers wait, and a rollback leaves no trace."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from api.audit import Origin, record
from persistence.models import AuditEvent
from persistence.models.privacy import link_audit_now
from tests.api.audit.arrange import write_entries

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime
    from tests.kit import TenantKit


def audit(session: AsyncSession, kit: TenantKit, action: str) -> None:
    record(session, tenant_id=kit.id, action=action, actor_user_id=kit.users["admin"], origin=Origin())


async def actions_in_order(runtime: Runtime, kit: TenantKit) -> list[str]:
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        return list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


async def test_an_open_transaction_that_audited_does_not_hold_up_another_writer(
    runtime: Runtime, tenant: TenantKit
) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as slow:
        audit(slow, tenant, "test.slow")
        await slow.flush()  # a handler flushes mid-way; the entry must not take the chain's lock yet
        await asyncio.wait_for(write_entries(runtime, tenant, 1, action="test.quick"), timeout=10)
    assert await actions_in_order(runtime, tenant) == ["test.quick", "test.slow"]


async def test_a_rolled_back_transaction_leaves_no_entry_and_no_gap(runtime: Runtime, tenant: TenantKit) -> None:
    class Abandon(Exception):
        pass

    try:
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            audit(session, tenant, "test.abandoned")
            await session.flush()
            raise Abandon
    except Abandon:
        pass
    await write_entries(runtime, tenant, 1, action="test.kept")
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seqs = list(await session.scalars(select(AuditEvent.seq).where(AuditEvent.action.like("test.%"))))
    assert await actions_in_order(runtime, tenant) == ["test.kept"]
    assert seqs == [1]


async def test_linking_now_gives_the_entry_its_seq_before_commit(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant, "test.first")
        await link_audit_now(session)
        assert await session.scalar(select(func.max(AuditEvent.seq))) == 1
        audit(session, tenant, "test.second")
    assert await actions_in_order(runtime, tenant) == ["test.first", "test.second"]
