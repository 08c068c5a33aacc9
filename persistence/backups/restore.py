"""Getting a backup back: verifying one by restoring it into a scratch database and comparing its
row counts, and restoring one from the store into a new database for real."""

from __future__ import annotations

import secrets
import time
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg
import msgspec
from sqlalchemy.engine import make_url

from persistence.backup import BackupError, libpq_url, restore
from persistence.backups.catalog import Verification
from persistence.backups.take import count_tables, work_folder

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from persistence.backups.catalog import Catalog, Manifest

__all__ = ["count_differences", "prove_restore", "restore_backup", "scratch_database", "verify_backup"]


@asynccontextmanager
async def scratch_database(owner_url: str) -> AsyncIterator[str]:
    """A new, empty database on the owner's server (``fieldhub_verify_<hex>``), dropped on the way out.

    The owner needs ``CREATEDB``. The drop runs even when the block fails or is cancelled.
    """
    name = f"fieldhub_verify_{secrets.token_hex(6)}"
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield make_url(owner_url).set(database=name).render_as_string(hide_password=False)
    finally:
        connection = await asyncpg.connect(libpq_url(owner_url))
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


async def prove_restore(owner_url: str, dump: Path) -> dict[str, int]:
    """Restore ``dump`` into a scratch database and count its tables' rows (the scratch database is dropped).

    Raises:
        BackupError: pg_restore failed (code ``tool_failed``).
    """
    async with scratch_database(owner_url) as scratch_url:
        await restore(scratch_url, dump)
        connection = await asyncpg.connect(libpq_url(scratch_url))
        try:
            return await count_tables(connection)
        finally:
            await connection.close()


def count_differences(expected: dict[str, int], restored: dict[str, int]) -> list[str]:
    """Every table whose restored row count differs from the backup's, as a phrase.

    >>> count_differences({"message": 3, "tenant": 1}, {"message": 2, "tenant": 1})
    ['message: 3 rows in the backup, 2 restored']
    """
    return [
        f"{table}: {expected.get(table, 'no')} rows in the backup, {restored.get(table, 'none')} restored"
        for table in sorted(expected.keys() | restored.keys())
        if expected.get(table) != restored.get(table)
    ]


async def verify_backup(owner_url: str, catalog: Catalog, manifest: Manifest) -> Manifest:
    """Fetch ``manifest``'s dump from the store, check its checksum, restore it into a scratch
    database and compare the row counts; record the outcome in the manifest.

    Returns:
        The manifest as recorded, its ``verification`` set (``verified`` or ``failed`` with the
        error). A failure to verify is a result, not an exception.
    """
    started = time.monotonic()
    error = None
    try:
        async with work_folder() as folder:
            dump = folder / f"{manifest.name}.dump"
            await catalog.fetch(manifest, dump)
            differences = count_differences(manifest.tables, await prove_restore(owner_url, dump))
        if differences:
            error = "counts: " + "; ".join(differences)
    except BackupError as exc:
        error = f"{exc.code}: {exc.message}"
    except (asyncpg.PostgresError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    verification = Verification(
        status="failed" if error else "verified",
        verified_at=datetime.now(UTC),
        restore_seconds=round(time.monotonic() - started, 3),
        error=error,
    )
    recorded = msgspec.structs.replace(manifest, verification=verification)
    await catalog.record(recorded)
    return recorded


async def restore_backup(owner_url: str, catalog: Catalog, name: str) -> Manifest:
    """Restore backup ``name`` from the store into the empty database at ``owner_url``, in one transaction.

    Raises:
        BackupError: ``not_found``, ``corrupt`` (the dump is not the one written), ``not_empty``
            or ``tool_failed``; nothing is left half-restored.
    """
    manifest = await catalog.manifest(name)
    async with work_folder() as folder:
        dump = folder / f"{manifest.name}.dump"
        await catalog.fetch(manifest, dump)
        await restore(owner_url, dump)
    return manifest
