"""Verified backups: the counts are the dump's own, a good backup is proven by a restore and then
restores every row into a new database, and a damaged one fails verification and says so."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest

from persistence.backup import BackupError, backup, libpq_url
from persistence.backups import (
    Catalog,
    FolderStore,
    Retention,
    backup_cycle,
    restore_backup,
    take_backup,
    verify_backup,
)
from persistence.backups.catalog import render_backups
from persistence.backups.restore import prove_restore
from persistence.backups.take import count_tables

if TYPE_CHECKING:
    from pathlib import Path

    from tests.kit import TenantKit


async def _counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return await count_tables(connection)
    finally:
        await connection.close()


async def _verify_databases(url: str) -> set[str]:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        rows = await connection.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'fieldhub_verify_%'")
        return {row[0] for row in rows}
    finally:
        await connection.close()


async def test_a_scheduled_backup_is_verified_then_restores_every_row(
    database_url: str, scratch_database: str, tenant: TenantKit, tmp_path: Path
) -> None:
    catalog = Catalog(FolderStore(root=tmp_path))
    cycle = await backup_cycle(
        database_url, catalog, interval=timedelta(hours=1), retention=Retention(), now=datetime.now(UTC)
    )
    assert cycle.verified is not None
    assert cycle.verified.status == "verified", cycle.verified.verification
    assert cycle.verified.tables["tenant"] >= 1
    assert cycle.verified.tables["app_user"] >= len(tenant.users)
    assert cycle.verified.revision
    [listed] = await catalog.manifests()
    assert listed == cycle.verified

    restored = await restore_backup(scratch_database, catalog, listed.name)
    assert restored.name == listed.name
    assert await _counts(scratch_database) == listed.tables
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        assert await connection.fetchval("SELECT slug FROM tenant WHERE id = $1", tenant.id) == tenant.slug
    finally:
        await connection.close()


async def test_the_counts_are_those_of_the_dump_while_rows_are_written(scratch_database: str, tmp_path: Path) -> None:
    connection = await asyncpg.connect(libpq_url(scratch_database))
    await connection.execute(
        "CREATE TABLE tick (n bigserial PRIMARY KEY); INSERT INTO tick SELECT FROM generate_series(1, 1000)"
    )
    writing = asyncio.Event()

    async def write() -> None:
        while True:
            await connection.execute("INSERT INTO tick DEFAULT VALUES")
            writing.set()

    writer = asyncio.create_task(write())
    try:
        await writing.wait()
        catalog = Catalog(FolderStore(root=tmp_path))
        taken = await take_backup(scratch_database, catalog, name="fieldhub-busy")
    finally:
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await writer
    try:
        assert await connection.fetchval("SELECT count(*) FROM tick") > taken.tables["tick"] > 1000
    finally:
        await connection.close()
    verified = await verify_backup(scratch_database, catalog, taken)
    assert verified.status == "verified", verified.verification


async def test_a_truncated_dump_fails_verification_and_is_reported(scratch_database: str, tmp_path: Path) -> None:
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        await connection.execute("CREATE TABLE kept (v int); INSERT INTO kept SELECT generate_series(1, 5000)")
    finally:
        await connection.close()
    catalog = Catalog(FolderStore(root=tmp_path))
    taken = await take_backup(scratch_database, catalog, name="fieldhub-damaged")
    dump = tmp_path / "fieldhub-damaged.dump"
    dump.write_bytes(dump.read_bytes()[: taken.size_bytes // 2])

    result = await verify_backup(scratch_database, catalog, taken)

    assert result.status == "failed"
    assert result.verification is not None
    assert result.verification.error is not None
    assert result.verification.error.startswith("corrupt:")
    [listed] = await catalog.manifests()
    assert listed.status == "failed"
    assert "failed" in render_backups([listed])
    assert "corrupt:" in render_backups([listed])


async def test_restoring_a_truncated_dump_fails_and_drops_its_scratch_database(
    database_url: str, tmp_path: Path
) -> None:
    dump = tmp_path / "fieldhub.dump"
    await backup(database_url, dump)
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    before = await _verify_databases(database_url)
    with pytest.raises(BackupError) as raised:
        await prove_restore(database_url, dump)
    assert raised.value.code == "tool_failed"
    assert await _verify_databases(database_url) <= before


async def test_restoring_an_unknown_backup_is_not_found(scratch_database: str, tmp_path: Path) -> None:
    with pytest.raises(BackupError) as raised:
        await restore_backup(scratch_database, Catalog(FolderStore(root=tmp_path)), "fieldhub-nothing")
    assert raised.value.code == "not_found"
    assert await _counts(scratch_database) == {}
