"""Taking a backup whose row counts are those of the dump itself: one repeatable-read transaction
exports its snapshot to pg_dump and counts every table in it, held open until the dump is done."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg

from persistence.backup import backup, libpq_url
from persistence.backups.catalog import Manifest, file_sha256

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from persistence.backups.catalog import Catalog

__all__ = ["count_tables", "take_backup", "work_folder"]

REVISION_SQL = "SELECT string_agg(version_num, ',' ORDER BY version_num) FROM alembic_version"


@asynccontextmanager
async def work_folder() -> AsyncIterator[Path]:
    """A private temporary folder for a dump on its way to or from the store (``TMPDIR`` decides where)."""
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="fieldhub-backup-"))
    try:
        yield folder
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)


async def count_tables(connection: asyncpg.Connection) -> dict[str, int]:
    """Rows in every table of the ``public`` schema, as ``connection``'s transaction sees them."""
    names = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    counts: dict[str, int] = {}
    for row in names:
        quoted = '"' + row["tablename"].replace('"', '""') + '"'
        counts[row["tablename"]] = await connection.fetchval(f"SELECT count(*) FROM public.{quoted}")  # noqa: S608
    return counts


async def take_backup(owner_url: str, catalog: Catalog, *, name: str) -> Manifest:
    """Dump the database as the owner into ``catalog`` under ``name``, with its manifest (unverified).

    The counts, the revision and ``taken_at`` come from the snapshot pg_dump reads, so a
    verification compares the restore against exactly what the dump holds, however busy the
    database was meanwhile.

    Raises:
        BackupError: pg_dump failed (nothing is stored).
    """
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        # The exporting transaction sits idle while pg_dump reads; a server-wide timeout must not end it.
        await connection.execute("SET idle_in_transaction_session_timeout = 0")
        async with work_folder() as folder:
            dump = folder / f"{name}.dump"
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                snapshot, taken_at = await connection.fetchrow("SELECT pg_export_snapshot(), clock_timestamp()")
                tables = await count_tables(connection)
                revision = ""
                if await connection.fetchval("SELECT to_regclass('public.alembic_version') IS NOT NULL"):
                    revision = await connection.fetchval(REVISION_SQL) or ""
                started = time.monotonic()
                await backup(owner_url, dump, snapshot=snapshot)
                dump_seconds = time.monotonic() - started
            manifest = Manifest(
                name=name,
                taken_at=taken_at,
                size_bytes=(await asyncio.to_thread(dump.stat)).st_size,
                sha256=await asyncio.to_thread(file_sha256, dump),
                revision=revision,
                tables=tables,
                dump_seconds=round(dump_seconds, 3),
            )
            await catalog.add(manifest, dump)
    finally:
        await connection.close()
    return manifest
