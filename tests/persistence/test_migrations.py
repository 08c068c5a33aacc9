"""Migrations: up, down, and the drift check between models and schema."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from persistence import migrate
from persistence.backup import libpq_url


async def test_check_finds_no_drift_after_upgrade(database_url: str) -> None:
    await asyncio.to_thread(migrate.check, database_url)


async def test_downgrade_to_base_then_upgrade_round_trips(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    assert "(head)" in await asyncio.to_thread(migrate.current, scratch_database)
    await asyncio.to_thread(migrate.downgrade, scratch_database, "base")
    assert await asyncio.to_thread(migrate.current, scratch_database) == ""
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    await asyncio.to_thread(migrate.check, scratch_database)


async def test_check_reports_a_column_the_models_lack(scratch_database: str) -> None:
    await asyncio.to_thread(migrate.upgrade, scratch_database)
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        await connection.execute("ALTER TABLE app_user ADD COLUMN nickname text")
    finally:
        await connection.close()
    with pytest.raises(migrate.SchemaDriftError, match="nickname"):
        await asyncio.to_thread(migrate.check, scratch_database)
