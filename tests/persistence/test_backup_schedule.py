"""The backup schedule under a moved clock: one backup per slot however many workers run, a backup
left unverified is verified by the next cycle, and what retention expires is deleted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest

from persistence.backup import libpq_url
from persistence.backups import Catalog, FolderStore, Retention, backup_cycle, slot_name, take_backup

if TYPE_CHECKING:
    from pathlib import Path

HOUR = timedelta(hours=1)
T = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


@pytest.fixture
async def small_database(scratch_database: str) -> str:
    """A database with one small table: a backup and its verification take a second."""
    connection = await asyncpg.connect(libpq_url(scratch_database))
    try:
        await connection.execute("CREATE TABLE reading (v int); INSERT INTO reading SELECT generate_series(1, 100)")
    finally:
        await connection.close()
    return scratch_database


async def test_one_backup_is_taken_per_slot(small_database: str, tmp_path: Path) -> None:
    catalog = Catalog(FolderStore(root=tmp_path))
    first = await backup_cycle(small_database, catalog, interval=HOUR, retention=Retention(), now=T)
    same_slot = await backup_cycle(
        small_database, catalog, interval=HOUR, retention=Retention(), now=T + 50 * timedelta(minutes=1)
    )
    next_slot = await backup_cycle(small_database, catalog, interval=HOUR, retention=Retention(), now=T + HOUR)
    assert first.taken is not None
    assert first.taken.name == "fieldhub-20260301T100000Z"
    assert same_slot.taken is None
    assert next_slot.taken is not None
    assert next_slot.taken.name == "fieldhub-20260301T110000Z"
    assert [m.name for m in await catalog.manifests()] == [first.taken.name, next_slot.taken.name]
    assert all(m.status == "verified" for m in await catalog.manifests())


async def test_workers_running_the_same_slot_take_one_backup(small_database: str, tmp_path: Path) -> None:
    # Two workers, each with its own view of the same store.
    cycles = await asyncio.gather(
        *(
            backup_cycle(
                small_database, Catalog(FolderStore(root=tmp_path)), interval=HOUR, retention=Retention(), now=T
            )
            for _ in range(2)
        )
    )
    assert sum(cycle.taken is not None for cycle in cycles) == 1
    assert [m.name for m in await Catalog(FolderStore(root=tmp_path)).manifests()] == [slot_name(T, HOUR)]


async def test_a_backup_left_unverified_is_verified_by_the_next_cycle(small_database: str, tmp_path: Path) -> None:
    catalog = Catalog(FolderStore(root=tmp_path))
    # A worker stopped between the dump and its verification.
    await take_backup(small_database, catalog, name=slot_name(T, HOUR))
    cycle = await backup_cycle(small_database, catalog, interval=HOUR, retention=Retention(), now=T)
    assert cycle.taken is None
    assert cycle.verified is not None
    assert cycle.verified.status == "verified"
    assert (await catalog.manifest(slot_name(T, HOUR))).status == "verified"


async def test_a_cycle_deletes_what_retention_expires_but_the_newest_verified(
    small_database: str, tmp_path: Path
) -> None:
    catalog = Catalog(FolderStore(root=tmp_path))
    rule = Retention(keep_all=HOUR, keep_daily=timedelta(days=1))
    old = [
        (await backup_cycle(small_database, catalog, interval=HOUR, retention=rule, now=T + n * HOUR)).taken
        for n in range(3)
    ]
    # Three days later (the backups' snapshots are real time, so the clock moves from now).
    later = datetime.now(UTC) + timedelta(days=3)
    cycle = await backup_cycle(small_database, catalog, interval=HOUR, retention=rule, now=later)
    assert cycle.taken is not None
    assert cycle.pruned == [backup.name for backup in old if backup is not None]
    assert [m.name for m in await catalog.manifests()] == [cycle.taken.name]
    assert sorted(await catalog.store.keys()) == [f"{cycle.taken.name}.dump", f"{cycle.taken.name}.json"]
