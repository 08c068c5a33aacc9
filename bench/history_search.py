"""``python -m bench.history_search --messages N``: history page and search latency over N messages in one tenant.

Creates a fresh migrated database, seeds a tenant (users and conversations through the
application's code), bulk-loads N messages with ``COPY`` (``bench.bulkload``), then times the
application's own read path: ``channels.history.History.page`` and ``.search`` as a member user, on
the application role under row-level security, one transaction per call as a request would run.
Prints one JSON line with p50/p95 per case; ``--explain`` adds the plan of each search to stderr.
The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from typing import TYPE_CHECKING, Any

import asyncpg
from sqlalchemy import event

from bench.bulkload import load_messages, seed_tenant
from bench.chatdb import BenchDatabase
from channels.conversations import Conversations
from channels.effects import Effects
from channels.history import History
from persistence.engine import Database

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from bench.bulkload import History as Loaded

WARMUP = 20
CASE_BUDGET_S = 60.0
"""A case stops early after this long (its ``runs`` then says how many calls were timed)."""


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 2)


async def _time(runs: int, call: Callable[[int], Awaitable[int]]) -> dict[str, Any]:
    """Run ``call(i)`` ``WARMUP`` times untimed, then ``runs`` times; milliseconds per call."""
    for number in range(WARMUP):
        await call(number)
    samples = []
    found = 0
    deadline = time.perf_counter() + CASE_BUDGET_S
    for number in range(runs):
        started = time.perf_counter()
        found += await call(number)
        samples.append((time.perf_counter() - started) * 1000)
        if started > deadline:
            break
    return {
        "runs": len(samples),
        "p50_ms": _percentile(samples, 0.50),
        "p95_ms": _percentile(samples, 0.95),
        "max_ms": round(max(samples), 2),
        "mean_rows": round(found / len(samples), 1),
    }


async def measure(database: BenchDatabase, loaded: Loaded, runs: int, queries: list[str]) -> dict[str, Any]:
    """Time pages and searches as the reader, through ``History`` on the application role."""
    db = Database(url=database.app_url, pool_size=2)
    rng = random.Random(5)
    last_seq: dict[Any, int] = {}
    connection = await asyncpg.connect(database.dsn)
    try:
        for row in await connection.fetch(
            "SELECT id, last_seq FROM conversation WHERE tenant_id = $1", loaded.tenant_id
        ):
            last_seq[row["id"]] = row["last_seq"]
    finally:
        await connection.close()

    def history(session: Any) -> History:
        chat = Conversations(session=session, tenant_id=loaded.tenant_id, user_id=loaded.reader_id, effects=Effects())
        return History(conversations=chat)

    async def latest(number: int) -> int:
        conversation_id = loaded.readable[number % len(loaded.readable)]
        async with db.transaction(tenant_id=loaded.tenant_id) as session:
            return len((await history(session).page(conversation_id, limit=50)).messages)

    async def older(_: int) -> int:
        conversation_id = rng.choice(loaded.readable)
        before = rng.randint(60, last_seq[conversation_id])
        async with db.transaction(tenant_id=loaded.tenant_id) as session:
            return len((await history(session).page(conversation_id, before=before, limit=50)).messages)

    def search(query: str, *, in_one: bool = False) -> Callable[[int], Awaitable[int]]:
        async def call(number: int) -> int:
            conversation_id = loaded.readable[number % len(loaded.readable)] if in_one else None
            async with db.transaction(tenant_id=loaded.tenant_id) as session:
                return len(await history(session).search(query, conversation_id=conversation_id, limit=20))

        return call

    results: dict[str, Any] = {}
    try:
        results["page_latest"] = await _time(runs, latest)
        results["page_before"] = await _time(runs, older)
        for query in queries:
            results[f"search:{query}"] = await _time(runs, search(query))
            results[f"search_in_conversation:{query}"] = await _time(runs, search(query, in_one=True))
    finally:
        await db.dispose()
    return results


async def explain(database: BenchDatabase, loaded: Loaded, query: str) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the SQL that ``History.search`` sends, as the app role under RLS."""
    db = Database(url=database.app_url, pool_size=1)
    captured: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if "ts_headline" in statement:
            captured.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", capture)
    try:
        async with db.transaction(tenant_id=loaded.tenant_id) as session:
            chat = Conversations(
                session=session, tenant_id=loaded.tenant_id, user_id=loaded.reader_id, effects=Effects()
            )
            await History(conversations=chat).search(query, limit=20)
            statement, parameters = captured[0]
            connection = await session.connection()
            rows = await connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            return "\n".join(row[0] for row in rows)
    finally:
        await db.dispose()


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    database = await BenchDatabase.create()
    try:
        started = time.monotonic()
        loaded = await seed_tenant(database, conversations=args.conversations, users=args.users, members=args.members)
        seeded = time.monotonic() - started
        load_s = await load_messages(database, loaded, args.messages)
        queries = args.query or [loaded.words[4], loaded.words[150], loaded.words[5_000]]
        figures = await measure(database, loaded, args.runs, queries)
        if args.explain:
            for query in queries:
                print(f"-- plan of search {query!r}\n{await explain(database, loaded, query)}\n", file=sys.stderr)
        return {
            "messages": args.messages,
            "conversations": args.conversations,
            "reader_conversations": len(loaded.readable),
            "public_conversations": (args.conversations + 2) // 4,
            "seed_s": round(seeded, 1),
            "load_s": round(load_s, 1),
            "runs": args.runs,
            **figures,
        }
    finally:
        if args.keep:
            print(f"kept database {database.name}", file=sys.stderr)
        else:
            await database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--members", type=int, default=12, help="members per conversation")
    parser.add_argument("--runs", type=int, default=200, help="timed calls per case (after 20 untimed; 60 s at most)")
    parser.add_argument("--query", action="append", help="search text (repeatable); default: 3 words by frequency")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each search to stderr")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    print(json.dumps(asyncio.run(_run(parser.parse_args()))), flush=True)


if __name__ == "__main__":
    main()
