"""``python -m bench.board_gc``: CPU of the whole tenant's board under the collector's thresholds.

Seeds a full-size field tenant (``bench.fieldseed``, as ``bench.api`` does), clocks about half the staff in,
freezes the heap as a serving process does at startup, then reads the board (``api.board.services.read_board``,
one transaction each, as a supervisor's request runs) ``--reads`` times under each collector setting in
turn: Python's default thresholds, the collector off, and ``hub.heap.SERVING_THRESHOLDS``. Prints one JSON
line per setting with the rows of the board and the CPU milliseconds per read. The database is dropped at
the end.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg
import uvloop

from api.board.services import read_board
from bench.chatdb import BenchDatabase
from bench.fieldseed import seed_field
from hub.heap import SERVING_THRESHOLDS
from persistence.engine import Database

DEFAULT_THRESHOLDS = (700, 10, 10)

# About half the staff at work now, as in the middle of bench.api's run.
CLOCK_IN_HALF = """
INSERT INTO attendance_record (id, tenant_id, user_id, workplace_id, clock_in_at, clock_in_received_at,
                               clock_in_offline, clock_out_offline, clock_in_flagged, clock_out_flagged,
                               clock_in_latitude, clock_in_longitude, clock_in_accuracy_m, clock_in_distance_m,
                               created_at, updated_at)
SELECT gen_random_uuid(), a.tenant_id, a.user_id, a.workplace_id, now() - interval '1 hour', now(),
       false, false, false, false, 0, 0, 5, 1, now(), now()
  FROM workplace_assignment AS a
 WHERE a.ended_at IS NULL AND random() < 0.5
"""


async def _run(args: argparse.Namespace) -> list[dict[str, Any]]:
    database = await BenchDatabase.create()
    try:
        seed = await seed_field(
            database, users=args.users, supervisors=10, workplaces=args.workplaces, tasks=args.tasks, attendance=0
        )
        connection = await asyncpg.connect(database.dsn)
        try:
            await connection.execute(CLOCK_IN_HALF)
        finally:
            await connection.close()
        db = Database(url=database.app_url, pool_size=1)
        results = []
        try:
            gc.collect()
            gc.freeze()
            for name, thresholds in (
                ("default", DEFAULT_THRESHOLDS),
                ("off", None),
                ("serving", SERVING_THRESHOLDS),
            ) * args.rounds:
                if thresholds is None:
                    gc.disable()
                else:
                    gc.enable()
                    gc.set_threshold(*thresholds)
                started = time.process_time()
                for _ in range(args.reads):
                    async with db.transaction(tenant_id=seed.tenant_id) as session:
                        board = await read_board(session, now=datetime.now(UTC))
                spent = time.process_time() - started
                rows = sum(
                    len(w.clocked_in) + len(w.late) + len(w.open_incidents) + len(w.overdue_tasks)
                    for w in board.workplaces
                )
                results.append(
                    {
                        "collector": name,
                        "thresholds": thresholds,
                        "workplaces": len(board.workplaces),
                        "rows": rows,
                        "cpu_ms_per_read": round(1000 * spent / args.reads, 2),
                    }
                )
            gc.enable()
        finally:
            await db.engine.dispose()
        return results
    finally:
        await database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--workplaces", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--reads", type=int, default=30, help="board reads per setting and round")
    parser.add_argument("--rounds", type=int, default=2, help="times each setting is measured, alternated")
    args = parser.parse_args()
    for line in uvloop.run(_run(args)):
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
