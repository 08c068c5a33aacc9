"""``python -m bench.api``: a field team's day against the real app, over HTTP.

Creates a fresh migrated database, seeds one tenant (``bench.fieldseed``: 1,000 users, 200
workplaces, 100,000 tasks, 1,000,000 attendance records), starts ``python -m api.cli serve`` on it,
logs everyone in, then for ``--seconds`` drives ``--rate`` requests/s from the simulated users, each
waiting for its previous answer: clock in or out, list my tasks, move one of my tasks, start or stop
my timer, ask for a day of unpaid leave or withdraw it (each request goes to approval), and
(supervisors) read the board. Prints one JSON line: ``requests_per_s``, ``p50_ms``, ``p95_ms``,
``p99_ms``, ``errors`` and the same per operation. The database is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.chat import AppServer, forget_redis_keys
from bench.chatdb import PASSWORD, BenchDatabase
from bench.fieldseed import FieldSeed, seed_field

LOGIN_CONCURRENCY = 4
# Shares of the mix; the board is read by supervisors, everything else by staff.
MIX = {"my_tasks": 30, "update_task": 20, "clock": 20, "timer": 15, "leave": 5, "board": 10}


@dataclass
class Person:
    """One simulated staff member and what the server holds for them."""

    token: str
    workplace: tuple[str, float, float]
    clocked_in: bool = False
    timer_running: bool = False
    tasks: list[str] = field(default_factory=list)
    moved: dict[str, str] = field(default_factory=dict)
    leave_id: str | None = None
    """The pending leave request to withdraw next, if any."""
    leave_days: int = 0
    """Leave asked so far: each request is for the next working day after the last one, so none overlap."""


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))


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


async def request(
    client: httpx.AsyncClient, tally: Tally, op: str, method: str, url: str, token: str, **kw: Any
) -> Any:
    started = time.perf_counter()
    try:
        response = await client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kw)
    except httpx.TransportError as exc:
        # A dropped or timed-out connection is an error of the run, not the end of it.
        tally.latencies[op].append((time.perf_counter() - started) * 1000)
        tally.errors[f"{op} {type(exc).__name__}"] += 1
        return None
    tally.latencies[op].append((time.perf_counter() - started) * 1000)
    if response.status_code >= 400:
        tally.errors[f"{op} {response.status_code} {response.text[:80]}"] += 1
        return None
    return response.json()


def leave_day(person: Person) -> date:
    """The person's next working day to ask leave for, counted from a Monday a year ahead."""
    first = datetime.now(UTC).date() + timedelta(days=365)
    first -= timedelta(days=first.weekday())
    weeks, weekday = divmod(person.leave_days, 5)
    return first + timedelta(weeks=weeks, days=weekday)


async def act(client: httpx.AsyncClient, tally: Tally, op: str, person: Person, supervisor: str, unpaid: str) -> None:
    """One request of ``op`` for ``person`` (or, for the board, a supervisor), keeping their state right."""
    if op == "leave" and person.leave_id is not None:
        url = f"/api/v1/leave/requests/{person.leave_id}/cancel"
        if await request(client, tally, op, "POST", url, person.token) is not None:
            person.leave_id = None
    elif op == "leave":
        day = leave_day(person).isoformat()
        body = {"leave_type_id": unpaid, "start_date": day, "end_date": day}
        asked = await request(client, tally, op, "POST", "/api/v1/leave/requests", person.token, json=body)
        if asked is not None:
            person.leave_id, person.leave_days = asked["id"], person.leave_days + 1
    elif op == "board":
        await request(client, tally, op, "GET", "/api/v1/board", supervisor)
    elif op == "my_tasks" or (op == "update_task" and not person.tasks):
        page = await request(client, tally, "my_tasks", "GET", "/api/v1/tasks/mine", person.token, params={"limit": 20})
        if page is not None:
            person.tasks = [t["id"] for t in page["items"] if t["status"] != "done"]
    elif op == "update_task":
        task = random.choice(person.tasks)
        status = "todo" if person.moved.get(task) == "in_progress" else "in_progress"
        if await request(
            client, tally, op, "POST", f"/api/v1/tasks/{task}/status", person.token, json={"status": status}
        ):
            person.moved[task] = status
    elif op == "clock":
        workplace_id, latitude, longitude = person.workplace
        position = {"latitude": latitude, "longitude": longitude, "accuracy_m": 10.0}
        if person.clocked_in:
            done = await request(client, tally, op, "POST", "/api/v1/attendance/clock-out", person.token, json=position)
        else:
            body = {**position, "workplace_id": workplace_id}
            done = await request(client, tally, op, "POST", "/api/v1/attendance/clock-in", person.token, json=body)
        if done is not None:
            person.clocked_in = not person.clocked_in
    elif op == "timer" and person.timer_running:
        if await request(client, tally, op, "POST", "/api/v1/tasks/timer/stop", person.token) is not None:
            person.timer_running = False
    elif op == "timer" and person.tasks:
        task = random.choice(person.tasks)
        if await request(client, tally, op, "POST", f"/api/v1/tasks/{task}/timer", person.token) is not None:
            person.timer_running = True


async def drive(base_url: str, seed: FieldSeed, *, rate: float, seconds: float) -> tuple[Tally, float]:
    # One connection per simulated person (each has at most one request in flight): waiting for the
    # generator's own pool would be counted as the server's latency, or end as a pool timeout.
    people_count = len(seed.staff) + len(seed.supervisors)
    limits = httpx.Limits(max_connections=people_count, max_keepalive_connections=people_count)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        staff_tokens = await login_all(client, seed.slug, seed.staff)
        supervisors = await login_all(client, seed.slug, seed.supervisors)
        people = [
            Person(token=t, workplace=seed.workplace_of[e]) for t, e in zip(staff_tokens, seed.staff, strict=True)
        ]
        types = await client.get("/api/v1/leave/types", headers={"Authorization": f"Bearer {staff_tokens[0]}"})
        unpaid = next(t["id"] for t in types.raise_for_status().json() if t["key"] == "unpaid")
        tally = Tally()
        per_person = rate / len(people)
        ops, weights = list(MIX), list(MIX.values())
        started = time.perf_counter()
        deadline = started + seconds

        async def live(person: Person) -> None:
            # Poisson arrivals per person, but never two requests of one person at once.
            rng = random.Random()
            await asyncio.sleep(rng.uniform(0, 1 / per_person))
            while time.perf_counter() < deadline:
                turn = time.perf_counter()
                await act(client, tally, rng.choices(ops, weights)[0], person, rng.choice(supervisors), unpaid)
                await asyncio.sleep(max(0.0, rng.expovariate(per_person) - (time.perf_counter() - turn)))

        await asyncio.gather(*(live(person) for person in people))
        return tally, time.perf_counter() - started


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def summarize(tally: Tally, elapsed: float, args: argparse.Namespace) -> dict[str, Any]:
    everything = [v for values in tally.latencies.values() for v in values]
    return {
        "users": args.users,
        "rate": args.rate,
        "seconds": args.seconds,
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
            server = AppServer(database=database, redis_url=args.redis, data_dir=Path(folder))
            server.wait_ready()
            tally, elapsed = asyncio.run(drive(server.base_url, seed, rate=args.rate, seconds=args.seconds))
        return {**summarize(tally, elapsed, args), "seed_seconds": round(seeding, 1)}
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
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    print(json.dumps(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
