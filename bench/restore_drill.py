"""``python -m bench.restore_drill --messages N``: a backup and restore drill, timed step by step.

Creates a fresh migrated database (``bench.chatdb``), seeds a tenant and bulk-loads N messages
(``bench.bulkload``), then does what an operator's worker and an operator do: takes a verified
backup into a folder store (``persistence.backups``: snapshot-consistent dump and counts, restore
into a scratch database, count comparison), restores it from the store into a new database as
``fieldhub db restore NAME`` does, analyses it, and checks every table's row count against the
manifest. Prints one JSON line of seconds per step; the recovery time (RTO) is the restore from
the store plus the ANALYZE. Every database it made is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import asyncpg

from bench.bulkload import load_messages, seed_tenant
from bench.chatdb import bench_database
from persistence.backup import libpq_url
from persistence.backups import Catalog, FolderStore, restore_backup, take_backup, verify_backup
from persistence.backups.restore import count_differences, scratch_database
from persistence.backups.take import count_tables


async def _restore_and_check(owner_url: str, catalog: Catalog, name: str, tables: dict[str, int]) -> dict[str, Any]:
    """Restore ``name`` into ``owner_url``'s empty database, ANALYZE it, and compare its counts."""
    started = time.monotonic()
    await restore_backup(owner_url, catalog, name)
    restored = time.monotonic()
    connection = await asyncpg.connect(libpq_url(owner_url))
    try:
        # pg_restore brings no planner statistics; without them the first queries plan badly.
        await connection.execute("ANALYZE")
        analysed = time.monotonic()
        differences = count_differences(tables, await count_tables(connection))
    finally:
        await connection.close()
    return {
        "restore_s": round(restored - started, 1),
        "analyze_s": round(analysed - restored, 1),
        "rto_s": round(analysed - started, 1),
        "count_differences": differences,
    }


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_database() as source:
        started = time.monotonic()
        loaded = await seed_tenant(source, conversations=args.conversations, users=args.users, members=args.members)
        seed_s = time.monotonic() - started
        load_s = await load_messages(source, loaded, args.messages)
        connection = await asyncpg.connect(source.dsn)
        try:
            database_bytes = await connection.fetchval("SELECT pg_database_size(current_database())")
        finally:
            await connection.close()
        with tempfile.TemporaryDirectory(prefix="fieldhub-drill-", dir=args.work_dir) as folder:
            catalog = Catalog(FolderStore(root=Path(folder)))
            started = time.monotonic()
            taken = await take_backup(source.owner_url, catalog, name="fieldhub-drill")
            backup_s = time.monotonic() - started
            verified = await verify_backup(source.owner_url, catalog, taken)
            # The new, empty database an operator would create (dropped on the way out).
            async with scratch_database(source.owner_url) as target_url:
                drill = await _restore_and_check(target_url, catalog, taken.name, taken.tables)
    return {
        "messages": args.messages,
        "message_rows": taken.tables.get("message"),
        "database_mib": round(database_bytes / 1048576),
        "dump_mib": round(taken.size_bytes / 1048576),
        "seed_s": round(seed_s, 1),
        "load_s": round(load_s, 1),
        "backup_s": round(backup_s, 1),
        "dump_s": round(taken.dump_seconds, 1),
        "verify_s": verified.verification.restore_seconds if verified.verification else None,
        "verification": verified.status,
        **drill,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--members", type=int, default=12, help="members per conversation")
    parser.add_argument("--work-dir", help="where the folder store lives (default: the system's temporary folder)")
    print(json.dumps(asyncio.run(_run(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
