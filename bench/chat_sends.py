"""``python -m bench.chat_sends``: the cost of storing chat sends, in figures a busy machine does not move.

Seeds a fresh database like ``bench.chat`` (``conversations`` private channels of ``members``), then
drives ``channels.writer.SendWriter`` in this process (no hub, no sockets) with ``concurrency``
sends in flight at any moment, spread round-robin over the conversations and their members,
until ``messages`` are stored. Prints one JSON line: CPU seconds of this process per message
(the Python work of the send path, which is what limits one ``fieldhub serve``), database round
trips per message (statements plus BEGIN and COMMIT), transactions, the mean batch size, SQL
statements compiled during the run (should be 0: every statement is served from the cache) and,
for scale only, the wall time. ``--single`` stores each send in its own transaction through
``Messages.send`` instead, as one request did before batching.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

from bench.chatdb import bench_database, seed_chat
from channels.batch import SendRequest
from channels.conversations import Conversations
from channels.effects import Effects
from channels.messages import Messages
from channels.writer import SendWriter
from persistence.engine import Database

if TYPE_CHECKING:
    from uuid import UUID

    from bench.chatdb import ChatSeed


WARM_UP = 500


class RoundTrips:
    """Counts what the engine sends to PostgreSQL: statements, BEGINs and COMMITs, and compilations."""

    def __init__(self, db: Database) -> None:
        self.statements = self.begins = self.commits = 0
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        # Every statement compiled (a cache miss) adds an entry to the engine's statement cache.
        self._cache = engine._compiled_cache
        self._cached = len(self._cache) if self._cache is not None else 0

    @property
    def compiled(self) -> int:
        return (len(self._cache) if self._cache is not None else 0) - self._cached

    def _statement(self, *_: Any) -> None:
        self.statements += 1

    def _begin(self, *_: Any) -> None:
        self.begins += 1

    def _commit(self, *_: Any) -> None:
        self.commits += 1

    @property
    def total(self) -> int:
        return self.statements + self.begins + self.commits


async def drive(args: argparse.Namespace, db: Database, seed: ChatSeed) -> dict[str, Any]:
    writer = SendWriter(db=db, hub=None, notifier=None)
    senders = itertools.cycle(
        [
            (seed.conversation_ids[c], seed.user_ids[seed.rooms[c][m]])
            for m in range(args.members)
            for c in range(args.conversations)
        ]
    )
    numbers = itertools.count()
    body = "x" * args.body_bytes

    async def one(conversation_id: UUID, author_id: UUID, n: int) -> None:
        if args.single:
            async with db.transaction(tenant_id=seed.tenant_id) as session:
                chat = Conversations(session=session, tenant_id=seed.tenant_id, user_id=author_id, effects=Effects())
                await Messages(conversations=chat).send(conversation_id, body=body, client_id=f"s{n}")
        else:
            await writer.send(
                seed.tenant_id, conversation_id, SendRequest(author_id=author_id, body=body, client_id=f"s{n}")
            )

    async def sender(until: int) -> None:
        while (n := next(numbers)) < until:
            conversation_id, author_id = next(senders)
            await one(conversation_id, author_id, n)

    # Untimed: the pool fills and every statement is compiled once.
    await asyncio.gather(*(sender(WARM_UP) for _ in range(args.concurrency)))
    numbers = itertools.count(WARM_UP + args.concurrency)
    trips = RoundTrips(db)
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(sender(WARM_UP + args.concurrency + args.messages) for _ in range(args.concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "mode": "single" if args.single else "batched",
        "messages": args.messages,
        "concurrency": args.concurrency,
        "cpu_ms_per_message": round(cpu * 1000 / args.messages, 3),
        "round_trips_per_message": round(trips.total / args.messages, 2),
        "transactions": trips.commits,
        "mean_batch": round(args.messages / max(trips.commits, 1), 1),
        "statements_compiled": trips.compiled,
        "wall_s": round(wall, 2),
        "messages_per_wall_s": round(args.messages / wall),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    async with bench_database(keep=False) as database:
        users = args.conversations * args.members
        seed = await seed_chat(database, conversations=args.conversations, members=args.members, users=users)
        db = Database(url=database.app_url, pool_size=args.pool)
        try:
            return await drive(args, db, seed)
        finally:
            await db.dispose()


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=200, help="sends in flight at any moment")
    parser.add_argument("--body-bytes", type=int, default=100)
    parser.add_argument("--pool", type=int, default=10, help="connections (and as many overflow), as the app")
    parser.add_argument("--single", action="store_true", help="one transaction per send (Messages.send)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse()))))
