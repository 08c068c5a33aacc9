"""The application role's only way onto the audit chain is ``fieldhub_audit_link``: it cannot write a chained column
or the head by hand, the function numbers entries from the head itself, and refuses an already linked entry or a
head that moved since the caller read it; downgrading past it links what is pending."""

from __future__ import annotations

import asyncio
import os
from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import create_async_engine
from uuid_utils.compat import uuid7

from api.audit import Origin, record
from persistence import migrate
from persistence.audit_chain import GENESIS, link_pending, personal_digest, verify_tenant
from persistence.audit_link import linking_done
from persistence.backup import libpq_url
from persistence.engine import asyncpg_url
from persistence.models import AuditEvent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.runtime import Runtime
    from tests.kit import TenantKit

LINK = text("SELECT fieldhub_audit_link(:head, CAST(:ids AS uuid[]), CAST(:hashes AS bytea[]))")


def audit(session: AsyncSession, kit: TenantKit) -> None:
    record(session, tenant_id=kit.id, action="test.entry", actor_user_id=kit.users["admin"], origin=Origin())


async def head_of(session: AsyncSession, kit: TenantKit) -> int:
    return int(await session.scalar(text("SELECT head_seq FROM audit_chain WHERE tenant_id = :t"), {"t": kit.id}) or 0)


async def test_app_role_cannot_insert_an_entry_with_its_place_in_the_chain(runtime: Runtime, tenant: TenantKit) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await session.execute(
                text(
                    "INSERT INTO audit_event (id, tenant_id, occurred_at, action, outcome, details, personal_digest,"
                    " seq, prev_hash, hash) VALUES (gen_random_uuid(), :t, now(), 'role.grant', 'success', '{}',"
                    " :h, 999, :h, :h)"
                ),
                {"t": tenant.id, "h": GENESIS},
            )


async def test_app_role_cannot_move_the_chains_head(runtime: Runtime, tenant: TenantKit) -> None:
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await session.execute(text("UPDATE audit_chain SET head_seq = 0 WHERE tenant_id = :t"), {"t": tenant.id})


async def test_app_role_cannot_relink_an_entry(runtime: Runtime, tenant: TenantKit) -> None:
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        linked = await session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_not(None)).limit(1))
        head = await head_of(session, tenant)
    with pytest.raises(DBAPIError, match="not unlinked entries of this tenant"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await session.execute(LINK, {"head": head, "ids": [linked], "hashes": [GENESIS]})
    with pytest.raises(ProgrammingError, match="permission denied"):
        async with runtime.db.transaction(tenant_id=tenant.id) as session:
            await session.execute(update(AuditEvent).where(AuditEvent.id == linked).values(seq=None))


async def test_a_reading_of_a_head_that_has_moved_links_nothing(runtime: Runtime, tenant: TenantKit) -> None:
    await linking_done()
    async with runtime.db.transaction(tenant_id=tenant.id) as session:
        audit(session, tenant)
        await session.flush()
        head = await head_of(session, tenant)
        entry = await session.scalar(select(AuditEvent.id).where(AuditEvent.seq.is_(None)))
        stale = await session.scalar(LINK, {"head": head - 1, "ids": [entry], "hashes": [GENESIS]})
        still_unlinked = await session.scalar(select(AuditEvent.seq).where(AuditEvent.id == entry))
        # The refused caller holds the head now: its second reading links.
        linked = await link_pending(await session.connection(), tenant.id)
        seq = await session.scalar(select(AuditEvent.seq).where(AuditEvent.id == entry))
    assert (stale, still_unlinked, linked, seq) == (None, None, 1, head + 1)


async def test_downgrading_links_the_pending_entries_into_a_chain_that_verifies(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    owner = await asyncpg.connect(libpq_url(scratch_database))
    try:
        tenant_id = await owner.fetchval(
            "INSERT INTO tenant (id, name, slug, status, settings, created_at, updated_at)"
            " VALUES (gen_random_uuid(), 'Acme', 'acme', 'active', '{}', now(), now()) RETURNING id"
        )
        for number in range(3):
            salt = os.urandom(16)
            await owner.execute(
                "INSERT INTO audit_event (id, tenant_id, occurred_at, action, outcome, details, personal_digest,"
                " personal_salt) VALUES ($1, $2, now(), 'test.entry', 'success', $3, $4, $5)",
                uuid7(),
                tenant_id,
                f'{{"number": {number}}}',
                personal_digest(salt, ip=None, user_agent=None, details={"number": number}),
                salt,
            )
    finally:
        await owner.close()

    await asyncio.to_thread(migrate.downgrade, scratch_database, "0013m")

    engine = create_async_engine(asyncpg_url(scratch_database))
    try:
        async with engine.connect() as connection:
            report = await verify_tenant(connection, tenant_id)
    finally:
        await engine.dispose()
    assert (report.broken, report.entries, report.head_seq, report.pending) == (None, 3, 3, 0)
