"""``python -m bench.apisql``: database round trips per request of each ``bench.api`` operation.

Seeds a small field tenant (``bench.fieldseed``), serves the real app in this process (uvicorn on a
free port of 127.0.0.1) and sends each operation of ``bench.api``'s mix ``--repeat`` times in a row
through ``bench.apiload``. SQLAlchemy events on the app's engine count, per request: statements,
transactions (each also costs a ``BEGIN`` and a ``COMMIT``) and pool checkouts (a connection idle
over ``persistence.engine.PING_IDLE_AFTER_SECONDS`` is pinged first: three round trips). Counts, unlike timings, do not depend on how busy the shared machine is.
``cpu_ms_with_client`` is this process's CPU time per request (server and client together);
``--profile`` writes cProfile statistics of the same requests. Prints one JSON line per operation.
The database is dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import tempfile
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import aiohttp
import uvicorn
import uvloop
from sqlalchemy import event

from api.app import create_app
from api.settings import load_settings
from bench.api import sign_in
from bench.apiload import Client, Tally, act
from bench.chat import forget_redis_keys
from bench.chatdb import BenchDatabase
from bench.fieldseed import seed_field
from bench.nodes import free_port

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

# ``me`` (signed in, no database) is the floor every other operation stands on.
OPERATIONS = ("me", "my_tasks", "update_task", "clock", "timer", "leave", "board")


class RoundTrips:
    """Counts what the engine sends to PostgreSQL: statements (SQLAlchemy's, from its events, and the
    ``persistence.prepared`` ones, which bypass those, from asyncpg's query log, which in turn does not see
    the statements SQLAlchemy's adapter prepares), transactions and checkouts."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.counts: Counter[str] = Counter()
        self.sent: list[str] = []
        sync = engine.sync_engine
        event.listen(sync, "before_cursor_execute", lambda *args: self._statement(args[2]))
        event.listen(sync, "begin", lambda *_: self.counts.update(["transactions"]))
        event.listen(sync.pool, "checkout", lambda *_: self.counts.update(["checkouts"]))
        event.listen(sync.pool, "connect", self._follow)

    def _follow(self, dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(lambda logged: self._statement(logged.query))

    def _statement(self, sql: str) -> None:
        statement = " ".join(sql.split())
        if statement.rstrip(";").upper() in _TRANSACTION_CONTROL:
            return  # part of a transaction (counted above) or of a ping
        self.counts["statements"] += 1
        self.sent.append(statement[:160])


_TRANSACTION_CONTROL = frozenset({"", "BEGIN", "BEGIN ISOLATION LEVEL READ COMMITTED", "COMMIT", "ROLLBACK"})


async def measure(args: argparse.Namespace, database: BenchDatabase) -> list[dict[str, Any]]:
    seed = await seed_field(database, users=20, supervisors=2, workplaces=4, tasks=2_000, attendance=2_000)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fieldhub-bench-") as folder:
        environ = {
            "FIELDHUB_DATABASE_URL": database.dsn,
            "FIELDHUB_REDIS_URL": args.redis,
            "FIELDHUB_DATA_DIR": folder,
            "FIELDHUB_SECRET_KEY": "bench-secret-key-not-for-production",
            "FIELDHUB_LOG_LEVEL": "WARNING",
            # 0 measures authentication as it was before the principal cache.
            "FIELDHUB_AUTH_CACHE_SECONDS": str(args.auth_cache_seconds),
        }
        app = create_app(load_settings(environ))
        trips = RoundTrips(app.state.runtime.db.engine)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:  # noqa: ASYNC110 (uvicorn offers no event to wait on)
                await asyncio.sleep(0.05)
            base_url = f"http://127.0.0.1:{port}"
            people, supervisors, unpaid = await sign_in(base_url, database.dsn, seed)
            results = []
            profiler = cProfile.Profile(time.process_time) if args.profile else None
            async with aiohttp.ClientSession(base_url) as session:
                tally = Tally()
                client = Client(session, tally)
                person = people[0]
                await act(client, "my_tasks", person, supervisors[0], unpaid)
                for op in args.only or OPERATIONS:
                    # One untimed warm-up, so caches and prepared statements are as in a long run.
                    await act(client, op, person, supervisors[0], unpaid)
                    before, cpu = trips.counts.copy(), time.process_time()
                    trips.sent.clear()
                    if profiler is not None:
                        profiler.enable()
                    for _ in range(args.repeat):
                        if op == "me":
                            await client.call(op, "GET", "/api/v1/auth/me", person.token)
                        else:
                            await act(client, op, person, supervisors[0], unpaid)
                    if profiler is not None:
                        profiler.disable()
                    spent = trips.counts - before
                    cpu_ms = round(1000 * (time.process_time() - cpu) / args.repeat, 2)
                    counts = {k: round(v / args.repeat, 2) for k, v in sorted(spent.items())}
                    results.append({"op": op, **counts, "cpu_ms_with_client": cpu_ms})
                    if args.statements:
                        results.append(
                            {
                                "op": op,
                                "statements_of_the_last_two": trips.sent[-2 * int(counts.get("statements", 0)) :],
                            }
                        )
                if tally.errors:
                    results.append({"errors": dict(tally.errors)})
            if profiler is not None:
                profiler.dump_stats(args.profile)
            return results
        finally:
            server.should_exit = True
            await serving
            await forget_redis_keys(args.redis, seed)  # type: ignore[arg-type]


async def main_async(args: argparse.Namespace) -> None:
    database = await BenchDatabase.create()
    try:
        for line in await measure(args, database):
            print(json.dumps(line), flush=True)
    finally:
        await database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="requests per operation")
    parser.add_argument("--profile", help="write cProfile stats (CPU time) of the measured requests here")
    parser.add_argument(
        "--statements", action="store_true", help="also print the SQL of each operation's last requests"
    )
    parser.add_argument("--auth-cache-seconds", type=float, default=5.0, help="the app's principal cache TTL")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", type=lambda text: text.split(","), help="measure these operations only (OP,OP)")
    uvloop.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
