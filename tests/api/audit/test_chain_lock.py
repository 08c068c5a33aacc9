"""When an entry joins its tenant's chain: after its transaction commits, by a task of the committing process, so
no audited writer waits for another's commit; a rollback leaves no trace, and a reader who needs a ``seq`` in its
own transaction links at once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import event, select
from sqlalchemy.util import await_only

from api.audit import Origin, record
from persistence.audit_link import linking_done
from persistence.audit_staging import link_audit_now
from persistence.models import AuditEvent
from tests.api.audit.arrange import write_entries

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from sqlalchemy.orm import Session

    from api.runtime import Runtime
    from tests.kit import TenantKit


def audit(session: AsyncSession, kit: TenantKit, action: str) -> None:
    record(session, tenant_id=kit.id, action=action, actor_user_id=kit.users["admin"], origin=Origin())


async def actions_in_order(runtime: Runtime, kit: TenantKit) -> list[str]:
    async with runtime.db.transaction(tenant_id=kit.id) as session:
        return list(await session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


async def test_a_writer_commits_while_another_audited_transaction_is_between_its_last_flush_and_commit(
    runtime: Runtime, tenant: TenantKit
) -> None:
    flushed, release = asyncio.Event(), asyncio.Event()

    def hold_before_commit(session: Session) -> None:
        # The entry is written (where joining the chain used to take the head's lock: staged entries go
        # in as the commit begins, before this listener of the session's own); its COMMIT waits here, as
        # it would behind a busy event loop.
        flushed.set()
        await_only(release.wait())

    async with runtime.db.session(tenant_id=tenant.id) as slow:
        await slow.begin()
        audit(slow, tenant, "test.slow")
        event.listen(slow.sync_session, "before_commit", hold_before_commit)
        committing = asyncio.create_task(slow.commit())
        try:
            await asyncio.wait_for(flushed.wait(), timeout=10)
            await asyncio.wait_for(write_entries(runtime, tenant, 1, action="test.quick"), timeout=10)
        finally:
            release.set()
            await committing
    await linking_done()
    # Both linked; in one batch they follow id order, which the slow one's earlier flush put first.
    assert sorted((await actions_in_order(runtime, tenant))[-2:]) == ["test.quick", "test.slow"]


async def test_an_entry_is_inserted_unlinked_and_linked_once_committed(runtime: Runtime, tenant: TenantKit) -> None:
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant, "test.entry")
        await session.flush()
        inside = await session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.entry"))
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        after = await session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.entry"))
    assert inside is None
    assert after is not None


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
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        seqs = list(await session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)))
    assert "test.abandoned" not in await actions_in_order(runtime, tenant)
    assert seqs == list(range(1, len(seqs) + 1))


async def test_linking_now_gives_the_entry_its_seq_before_commit(runtime: Runtime, tenant: TenantKit) -> None:
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant, "test.first")
        await link_audit_now(session, tenant.id)
        first = await session.scalar(select(AuditEvent.seq).where(AuditEvent.action == "test.first"))
        unlinked = await session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)).limit(1))
        audit(session, tenant, "test.second")
    await linking_done()
    assert (first, unlinked) == (len(await actions_in_order(runtime, tenant)) - 1, None)
    assert (await actions_in_order(runtime, tenant))[-2:] == ["test.first", "test.second"]
