"""The audit hash chain: every committed entry linked per tenant, no fork or gap under concurrent writers, an entry
a dead process left unlinked linked by the worker's sweep, pending entries reported as such, and hand edits,
deletions and insertions (raw SQL as the owner) named by ``fieldhub audit verify``."""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import await_only
from uuid_utils.compat import uuid7

from api.privacy.jobs import AUDIT_LINK_JOB, privacy_job_handlers
from channels.storage import LocalFileStorage
from persistence.audit_chain import GENESIS, ChainReport, render_report, verify_tenant
from persistence.audit_link import link_tenant, linking_done
from persistence.backup import libpq_url
from persistence.engine import asyncpg_url
from persistence.jobs import ClaimedJob
from tests.api.audit.arrange import write_entries

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from api.runtime import Runtime
    from api.settings import Settings
    from tests.kit import TenantKit


async def verify(settings: Settings, kit: TenantKit) -> tuple[int, str]:
    """Run ``fieldhub audit verify --tenant`` as a process (once this one has linked what it committed)."""
    await linking_done()
    env = {**os.environ, "FIELDHUB_DATABASE_URL": settings.database_url or "", "FIELDHUB_LOG_LEVEL": "ERROR"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "audit", "verify", "--tenant", kit.slug,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await process.communicate()
    return await process.wait(), output.decode()


@pytest.fixture
async def owner(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the database owner: what someone editing rows by hand would use."""
    connection = await asyncpg.connect(libpq_url(settings.database_url or ""))
    yield connection
    await connection.close()


async def chain_of(owner: asyncpg.Connection, kit: TenantKit) -> list[asyncpg.Record]:
    """The tenant's entries once this process has linked what it committed, in chain order."""
    await linking_done()
    return list(await owner.fetch("SELECT * FROM audit_event WHERE tenant_id = $1 ORDER BY seq", kit.id))


async def report_of(settings: Settings, kit: TenantKit) -> ChainReport:
    await linking_done()
    engine = create_async_engine(asyncpg_url(settings.database_url or ""))
    try:
        async with engine.connect() as connection:
            return await verify_tenant(connection, kit.id)
    finally:
        await engine.dispose()


async def test_each_entry_carries_the_hash_of_the_one_before(
    runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 3)
    chain = await chain_of(owner, tenant)
    assert [row["seq"] for row in chain] == list(range(1, len(chain) + 1))
    assert bytes(chain[0]["prev_hash"]) == GENESIS
    assert all(bytes(b["prev_hash"]) == bytes(a["hash"]) for a, b in itertools.pairwise(chain))


async def test_a_clean_chain_verifies_intact(settings: Settings, runtime: Runtime, tenant: TenantKit) -> None:
    await write_entries(runtime, tenant, 3)
    status, output = await verify(settings, tenant)
    assert (status, f"{tenant.slug}: intact") == (0, output.split(",")[0].strip())


async def test_entries_committed_concurrently_end_up_in_one_gap_free_chain_that_verifies(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    before = len(await chain_of(owner, tenant))
    await asyncio.gather(*(write_entries(runtime, tenant, 3, action=f"test.writer{n}") for n in range(12)))
    chain = await chain_of(owner, tenant)
    assert [row["seq"] for row in chain] == list(range(1, before + 37))
    assert len({bytes(row["prev_hash"]) for row in chain}) == len(chain)
    report = await report_of(settings, tenant)
    assert (report.intact, report.pending, report.head_seq) == (True, 0, before + 36)


async def test_an_entry_left_unlinked_by_a_dead_process_is_linked_by_the_worker_sweep(
    settings: Settings, runtime: Runtime, tenant: TenantKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    await linking_done()
    with monkeypatch.context() as dead:
        # The process commits, then dies before its linking task runs.
        dead.setattr("persistence.models.privacy.link_soon", lambda engine, tenant_id: None)
        await write_entries(runtime, tenant, 2, action="test.orphan")
    left = await report_of(settings, tenant)
    job = ClaimedJob(id=uuid7(), tenant_id=tenant.id, kind=AUDIT_LINK_JOB, payload={}, attempts=1, max_attempts=3)
    storage = LocalFileStorage(root=settings.data_path / "files")

    await privacy_job_handlers(db=runtime.db, storage=storage)[AUDIT_LINK_JOB](job)

    swept = await report_of(settings, tenant)
    assert (left.pending, swept.pending, swept.intact) == (2, 0, True)
    assert swept.head_seq == left.head_seq + 2


async def test_verify_reports_pending_entries_without_calling_the_chain_broken(
    settings: Settings, runtime: Runtime, tenant: TenantKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    await linking_done()
    monkeypatch.setattr("persistence.models.privacy.link_soon", lambda engine, tenant_id: None)
    await write_entries(runtime, tenant, 3)
    status, output = await verify(settings, tenant)
    assert status == 0
    assert output.strip().startswith(f"{tenant.slug}: intact, ")
    assert output.strip().endswith(", 3 pending")


def test_an_entry_unlinked_for_minutes_gets_a_line_of_its_own() -> None:
    now = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    report = ChainReport(
        tenant_id=uuid7(), entries=5, first_seq=1, head_seq=5, pending=1, oldest_pending=now - timedelta(minutes=6)
    )
    assert render_report("acme", report, now=now).splitlines() == [
        "acme: intact, 5 entries (1..5), 1 pending",
        "acme: entries unlinked since 2026-11-26T11:54:00+00:00; `fieldhub worker` links them (is it running?)",
    ]
    fresh = ChainReport(tenant_id=report.tenant_id, entries=5, first_seq=1, head_seq=5, pending=1, oldest_pending=now)
    assert render_report("acme", fresh, now=now) == "acme: intact, 5 entries (1..5), 1 pending"


async def test_verify_names_an_entry_edited_by_hand(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 4)
    victim = (await chain_of(owner, tenant))[-3]
    await owner.execute("UPDATE audit_event SET action = 'user.harmless' WHERE id = $1", victim["id"])
    status, output = await verify(settings, tenant)
    assert status == 1
    assert f"BROKEN at entry {victim['seq']} (id {victim['id']}): hash does not match the entry (edited)" in output


async def test_verify_names_an_entry_whose_details_were_edited_by_hand(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 3)
    victim = (await chain_of(owner, tenant))[-2]
    await owner.execute("UPDATE audit_event SET details = '{\"number\": 99}' WHERE id = $1", victim["id"])
    report = await report_of(settings, tenant)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.reason) == (victim["seq"], "personal fields do not match (edited)")


async def test_verify_names_the_gap_left_by_an_entry_deleted_by_hand(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 4)
    victim = (await chain_of(owner, tenant))[-2]
    await owner.execute("DELETE FROM audit_event WHERE id = $1", victim["id"])
    report = await report_of(settings, tenant)
    assert report.broken is not None
    assert report.broken.seq == victim["seq"]
    assert "missing (deleted)" in report.broken.reason


async def test_verify_notices_the_last_entry_deleted_by_hand(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 2)
    last = (await chain_of(owner, tenant))[-1]
    await owner.execute("DELETE FROM audit_event WHERE id = $1", last["id"])
    report = await report_of(settings, tenant)
    assert report.broken is not None
    assert report.broken.seq == last["seq"]


async def test_verify_names_an_entry_inserted_by_hand(
    settings: Settings, runtime: Runtime, tenant: TenantKit, owner: asyncpg.Connection
) -> None:
    await write_entries(runtime, tenant, 3)
    chain = await chain_of(owner, tenant)
    # A forged entry slipped in the middle: later entries are renumbered to make room for it.
    position = chain[-2]["seq"]
    await owner.execute(
        "UPDATE audit_event SET seq = seq + 1000 WHERE tenant_id = $1 AND seq >= $2", tenant.id, position
    )
    await owner.execute(
        "UPDATE audit_event SET seq = seq - 999 WHERE tenant_id = $1 AND seq >= $2", tenant.id, position + 1000
    )
    forged = await owner.fetchval(
        "INSERT INTO audit_event (id, tenant_id, occurred_at, actor_user_id, action, outcome, details, seq,"
        " prev_hash, hash, personal_digest, personal_salt)"
        " SELECT gen_random_uuid(), tenant_id, occurred_at, actor_user_id, 'role.grant', outcome, details, $2,"
        " hash, hash, personal_digest, personal_salt FROM audit_event WHERE tenant_id = $1 AND seq = $3"
        " RETURNING id",
        tenant.id,
        position,
        position - 1,
    )
    report = await report_of(settings, tenant)
    assert report.broken is not None
    assert (report.broken.seq, report.broken.entry_id) == (position, forged)


async def test_verify_is_not_fooled_by_a_linker_committing_between_its_reads(
    settings: Settings, runtime: Runtime, tenant: TenantKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    await linking_done()
    monkeypatch.setattr("persistence.models.privacy.link_soon", lambda engine, tenant_id: None)
    await write_entries(runtime, tenant, 2)
    linked: list[int] = []
    engine = create_async_engine(asyncpg_url(settings.database_url or ""))
    try:
        async with engine.connect() as connection:

            @event.listens_for(connection.sync_connection, "before_cursor_execute")
            def link_meanwhile(*args: object) -> None:
                # The walk is about to start, the head already read: a linker commits now.
                if "ORDER BY seq" in str(args[2]) and not linked:
                    linked.append(await_only(link_tenant(runtime.db.engine, tenant.id)))

            report = await verify_tenant(connection, tenant.id)
    finally:
        await engine.dispose()

    assert linked == [2]
    assert (report.intact, report.pending) == (True, 2)
