"""``python -m bench.api``: a field team's day against the real app, over HTTP.

Creates a fresh migrated database, seeds one tenant (``bench.fieldseed``: 1,000 users, 200
workplaces, 100,000 tasks, 1,000,000 attendance records), starts ``python -m api.cli serve
--workers N`` on it, logs everyone in, then ``--processes`` generator processes (``bench.apiload``)
drive ``--rate`` requests/s for ``--seconds`` from the simulated users, each waiting for its previous
answer: clock in or out, list my tasks, move one of my tasks, start or stop my timer, ask for a day
of unpaid leave or withdraw it (each request goes to approval), and (supervisors) read the board.
Prints one JSON line: ``requests_per_s``, ``p50_ms``, ``p95_ms``, ``p99_ms``, ``errors`` and the same
per operation, the CPU time per request of the server, the database's backends and the generators,
and what the database's backends waited on. The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench.apiload import MIX, Person, Share, Tally, run_share
from bench.chat import AppServer, _profile, forget_redis_keys
from bench.chatdb import PASSWORD, BenchDatabase
from bench.fieldseed import FieldSeed, seed_field

LOGIN_CONCURRENCY = 4
WAITS_SQL = """
SELECT CASE WHEN state = 'idle in transaction' THEN 'idle in transaction'
            WHEN wait_event IS NULL THEN 'running'
            WHEN wait_event_type = 'Lock' THEN 'Lock:' || wait_event || ' in ' || left(query, 40)
            ELSE wait_event_type || ':' || wait_event END AS kind, count(*) AS backends
FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid() AND state <> 'idle'
GROUP BY 1
"""
START_DELAY = 3.0
"""Seconds between handing the generators their shares and their common start."""


async def login_all(client: httpx.AsyncClient, slug: str, emails: list[str]) -> list[str]:
    """A bearer token per email (a few at a time: argon2 is CPU-bound)."""
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)

    async def one(email: str) -> str:
        async with gate:
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": slug}
            )
            response.raise_for_status()
            token: str = response.json()["token"]
            return token

    return list(await asyncio.gather(*(one(email) for email in emails)))


OPEN_TASKS = """
SELECT u.email, (array_agg(t.id::text ORDER BY t.due_at, t.id))[1:20]
  FROM task AS t JOIN app_user AS u ON u.id = t.assignee_id
 WHERE t.status IN ('todo', 'in_progress', 'blocked') AND u.email = ANY($1::text[])
 GROUP BY u.email
"""


async def open_tasks(dsn: str, emails: list[str]) -> dict[str, list[str]]:
    """Each staff member's first page of open tasks, as their app shows it when the day starts."""
    connection = await asyncpg.connect(dsn)
    try:
        return {email: list(ids) for email, ids in await connection.fetch(OPEN_TASKS, emails)}
    finally:
        await connection.close()


async def sign_in(base_url: str, dsn: str, seed: FieldSeed) -> tuple[list[Person], list[str], str]:
    """Every staff member as a ``Person`` with a token and their open tasks (read untimed, from the
    database: a person's first "move a task" or "start a timer" must not turn into a listing or
    nothing), the supervisors' tokens and the unpaid leave type."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        staff_tokens = await login_all(client, seed.slug, seed.staff)
        supervisors = await login_all(client, seed.slug, seed.supervisors)
        types = await client.get("/api/v1/leave/types", headers={"Authorization": f"Bearer {staff_tokens[0]}"})
        unpaid = next(t["id"] for t in types.raise_for_status().json() if t["key"] == "unpaid")
    tasks = await open_tasks(dsn, seed.staff)
    people = [
        Person(token=token, workplace=seed.workplace_of[email], tasks=tasks.get(email, []))
        for token, email in zip(staff_tokens, seed.staff, strict=True)
    ]
    return people, supervisors, unpaid


class CpuMeter:
    """CPU seconds the server's processes and the bench database's PostgreSQL backends spend in a window.

    Read from ``/proc`` (``utime + stime``) at the start and the end; a process first seen at the end
    started within the window and counts from zero. Unlike wall-clock rates this does not depend on
    how busy the shared machine is.
    """

    def __init__(self, *, server_pid: int, database_name: str) -> None:
        self._server_group = server_pid
        self._database = database_name.encode()
        self._start: dict[int, tuple[str, float]] = {}

    def _read(self) -> dict[int, tuple[str, float]]:
        tick = os.sysconf("SC_CLK_TCK")
        found: dict[int, tuple[str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            fields = stat.rpartition(")")[2].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick
            if int(fields[2]) == self._server_group:
                found[int(entry.name)] = ("server", cpu)
            elif b"postgres:" in command and self._database in command:
                found[int(entry.name)] = ("postgres", cpu)
        return found

    def start(self) -> None:
        self._start = self._read()

    def stop(self) -> dict[str, float]:
        parts: dict[str, float] = defaultdict(float)
        for pid, (part, cpu) in self._read().items():
            parts[part] += cpu - self._start.get(pid, (part, 0.0))[1]
        return dict(parts)


class WaitSampler:
    """Samples, every ``interval`` seconds, what the bench database's busy backends wait on.

    Each sample counts the backends of the bench database that are inside a transaction or a
    query, by ``wait_event_type:wait_event`` (``running`` when on CPU, ``idle in transaction``
    when waiting for the application; a lock wait names the statement that waits), so lock queues
    and pool starvation show as counts, not guesses.
    """

    def __init__(self, *, dsn: str, database_name: str, interval: float = 0.5) -> None:
        self._dsn = dsn
        self._database = database_name
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.samples = 0
        self.waits: Counter[str] = Counter()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> dict[str, float]:
        """Mean backends per sample in each state."""
        self._stop.set()
        self._thread.join()
        return {kind: round(count / max(1, self.samples), 2) for kind, count in self.waits.most_common()}

    async def _run(self) -> None:
        connection = await asyncpg.connect(self._dsn)
        try:
            while not self._stop.is_set():
                rows = await connection.fetch(WAITS_SQL, self._database)
                self.samples += 1
                for row in rows:
                    self.waits[row["kind"]] += row["backends"]
                await asyncio.sleep(self._interval)
        finally:
            await connection.close()


def drive(args: argparse.Namespace, server: AppServer, database: BenchDatabase, seed: FieldSeed) -> dict[str, Any]:
    """Sign everyone in, run the generators over their shares, and measure latencies and CPU."""
    people, supervisors, unpaid = asyncio.run(sign_in(server.base_url, database.dsn, seed))
    processes = max(1, min(args.processes, len(people)))
    start_at = time.time() + START_DELAY
    shares = [
        Share(
            base_url=server.base_url,
            people=people[index::processes],
            supervisors=supervisors,
            unpaid_leave_type=unpaid,
            rate=args.rate * len(people[index::processes]) / len(people),
            start_at=start_at,
            seconds=args.seconds,
            mix={op: weight for op, weight in MIX.items() if not args.only or op in args.only.split(",")},
        )
        for index in range(processes)
    ]
    meter = CpuMeter(server_pid=server.process.pid, database_name=database.name)
    waits = WaitSampler(dsn=database.dsn, database_name=database.name)
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(run_share, share) for share in shares]
        time.sleep(max(0.0, start_at - time.time()))
        meter.start()
        waits.start()
        profiler = _profile(server.process.pid, args.seconds, args.profile) if args.profile else None
        load_before = os.getloadavg()[0]
        tallies = [future.result() for future in futures]
        elapsed = time.time() - start_at
        cpu = meter.stop()
        backends = waits.stop()
        load_after = os.getloadavg()[0]
    if profiler is not None:
        profiler.wait(timeout=30)
    cpu["generators"] = sum(tally.cpu_seconds for tally in tallies)
    summary = summarize(merge(tallies), elapsed, args, cpu=cpu, load=(load_before, load_after))
    return {**summary, "database_backends": backends}


def merge(tallies: list[Tally]) -> Tally:
    merged = Tally()
    for tally in tallies:
        for op, values in tally.latencies.items():
            merged.latencies[op].extend(values)
        for kind, count in tally.errors.items():
            merged.errors[kind] += count
    return merged


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def summarize(
    tally: Tally, elapsed: float, args: argparse.Namespace, *, cpu: dict[str, float], load: tuple[float, float]
) -> dict[str, Any]:
    everything = [v for values in tally.latencies.values() for v in values]
    requests = max(1, len(everything))
    return {
        "users": args.users,
        "rate": args.rate,
        "seconds": args.seconds,
        "workers": args.workers,
        "processes": args.processes,
        "only": args.only,
        "requests": len(everything),
        "requests_per_s": round(len(everything) / elapsed, 1),
        "p50_ms": percentile(everything, 0.50),
        "p95_ms": percentile(everything, 0.95),
        "p99_ms": percentile(everything, 0.99),
        "errors": sum(tally.errors.values()),
        "error_kinds": dict(tally.errors),
        "per_op": {
            op: {"count": len(values), "p50_ms": percentile(values, 0.5), "p95_ms": percentile(values, 0.95)}
            for op, values in sorted(tally.latencies.items())
        },
        "cpu_ms_per_request": {part: round(1000 * seconds / requests, 2) for part, seconds in sorted(cpu.items())},
        "load_average": [round(load[0], 2), round(load[1], 2)],
    }


async def _prepare(args: argparse.Namespace) -> tuple[BenchDatabase, FieldSeed, float]:
    database = await BenchDatabase.create()
    started = time.perf_counter()
    try:
        seed = await seed_field(
            database,
            users=args.users,
            supervisors=args.supervisors,
            workplaces=args.workplaces,
            tasks=args.tasks,
            attendance=args.attendance,
        )
    except BaseException:
        await database.drop()
        raise
    return database, seed, time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.redis.startswith("redis://127.0.0.1:"):
        raise SystemExit("benchmarks run only against 127.0.0.1")
    database, seed, seeding = asyncio.run(_prepare(args))
    server: AppServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="fieldhub-bench-") as folder:
            server = AppServer(database=database, redis_url=args.redis, data_dir=Path(folder), workers=args.workers)
            server.wait_ready()
            return {**drive(args, server, database, seed), "seed_seconds": round(seeding, 1)}
    finally:
        if server is not None:
            server.stop()
        asyncio.run(forget_redis_keys(args.redis, seed))  # type: ignore[arg-type]
        if not args.keep:
            asyncio.run(database.drop())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--supervisors", type=int, default=10, help="of the users, those reading the board")
    parser.add_argument("--workplaces", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--attendance", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=300, help="requests per second across all users")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes of the server")
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--only", help=f"comma-separated operations to keep from the mix ({', '.join(MIX)})")
    parser.add_argument("--profile", help="write py-spy's raw stacks of the server's processes here")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    print(json.dumps(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
