"""``db backup`` and ``db restore``: a dump restores into an empty database with every row and policy."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from persistence.backup import BackupError, backup, libpq_url, restore
from tests.kit import TenantKit

COUNTS = "SELECT (SELECT count(*) FROM tenant), (SELECT count(*) FROM app_user), (SELECT count(*) FROM role)"


async def _fetch(url: str, query: str) -> asyncpg.Record:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        row: asyncpg.Record = await connection.fetchrow(query)
        return row
    finally:
        await connection.close()


async def test_backup_restores_into_an_empty_database(
    database_url: str, scratch_database: str, tenant: TenantKit, tmp_path: Path
) -> None:
    dump = tmp_path / "fieldhub.dump"
    await backup(database_url, dump)
    await restore(scratch_database, dump)
    assert tuple(await _fetch(scratch_database, COUNTS)) == tuple(await _fetch(database_url, COUNTS))
    forced = await _fetch(scratch_database, "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'app_user'")
    assert forced[0] is True


async def test_restore_refuses_a_database_that_is_not_empty(database_url: str, tmp_path: Path) -> None:
    dump = tmp_path / "fieldhub.dump"
    await backup(database_url, dump)
    with pytest.raises(BackupError, match="not empty"):
        await restore(database_url, dump)
