"""One load-generator process of ``bench.api``: its share of the simulated field team, over aiohttp.

``bench.api`` signs everyone in, then hands each of ``--processes`` of these a share of the people
(their tokens and workplaces) and a common wall-clock start. Each person sends Poisson-paced
requests, never two at once, until the end; the process returns every latency, the errors by kind
and its own CPU time, so the driver's cost is measured apart from the server's.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import msgspec
import uvloop

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
class Share:
    """What one generator process drives: its people, the supervisors' tokens and the run's clock."""

    base_url: str
    people: list[Person]
    supervisors: list[str]
    unpaid_leave_type: str
    rate: float
    """Requests per second of this share."""
    start_at: float
    """Wall-clock (``time.time()``) second at which every generator starts."""
    seconds: float
    mix: dict[str, int] = field(default_factory=lambda: dict(MIX))
    """Operation -> weight (``--only`` narrows it)."""


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    cpu_seconds: float = 0.0
    """This generator process's CPU time during the run."""


class Client:
    """Timed requests on one aiohttp session; a failure is counted by kind and never ends the run."""

    def __init__(self, session: aiohttp.ClientSession, tally: Tally) -> None:
        self._session = session
        self._tally = tally

    async def call(self, op: str, method: str, url: str, token: str, json: Any = None, **params: Any) -> Any:
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {token}"}
        try:
            async with self._session.request(method, url, headers=headers, json=json, params=params or None) as answer:
                body = await answer.read()
                status = answer.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._tally.latencies[op].append((time.perf_counter() - started) * 1000)
            self._tally.errors[f"{op} {type(exc).__name__}"] += 1
            return None
        self._tally.latencies[op].append((time.perf_counter() - started) * 1000)
        if status >= 400:
            self._tally.errors[f"{op} {status} {body[:80].decode(errors='replace')}"] += 1
            return None
        return msgspec.json.decode(body) if body else {}


def leave_day(person: Person) -> date:
    """The person's next working day to ask leave for, counted from a Monday a year ahead."""
    first = datetime.now(UTC).date() + timedelta(days=365)
    first -= timedelta(days=first.weekday())
    weeks, weekday = divmod(person.leave_days, 5)
    return first + timedelta(weeks=weeks, days=weekday)


async def act(client: Client, op: str, person: Person, supervisor: str, unpaid: str) -> None:
    """One request of ``op`` for ``person`` (or, for the board, a supervisor), keeping their state right."""
    if op == "leave" and person.leave_id is not None:
        url = f"/api/v1/leave/requests/{person.leave_id}/cancel"
        if await client.call(op, "POST", url, person.token) is not None:
            person.leave_id = None
    elif op == "leave":
        day = leave_day(person).isoformat()
        body = {"leave_type_id": unpaid, "start_date": day, "end_date": day}
        asked = await client.call(op, "POST", "/api/v1/leave/requests", person.token, json=body)
        if asked is not None:
            person.leave_id, person.leave_days = asked["id"], person.leave_days + 1
    elif op == "board":
        await client.call(op, "GET", "/api/v1/board", supervisor)
    elif op == "my_tasks" or (op == "update_task" and not person.tasks):
        page = await client.call("my_tasks", "GET", "/api/v1/tasks/mine", person.token, limit=20, open="true")
        if page is not None:
            person.tasks = [t["id"] for t in page["items"]]
    elif op == "update_task":
        task = random.choice(person.tasks)
        status = "todo" if person.moved.get(task) == "in_progress" else "in_progress"
        if await client.call(op, "POST", f"/api/v1/tasks/{task}/status", person.token, json={"status": status}):
            person.moved[task] = status
    elif op == "clock":
        workplace_id, latitude, longitude = person.workplace
        position: dict[str, Any] = {"latitude": latitude, "longitude": longitude, "accuracy_m": 10.0}
        if person.clocked_in:
            done = await client.call(op, "POST", "/api/v1/attendance/clock-out", person.token, json=position)
        else:
            body = {**position, "workplace_id": workplace_id}
            done = await client.call(op, "POST", "/api/v1/attendance/clock-in", person.token, json=body)
        if done is not None:
            person.clocked_in = not person.clocked_in
    elif op == "timer" and person.timer_running:
        if await client.call(op, "POST", "/api/v1/tasks/timer/stop", person.token) is not None:
            person.timer_running = False
    elif op == "timer" and person.tasks:
        task = random.choice(person.tasks)
        if await client.call(op, "POST", f"/api/v1/tasks/{task}/timer", person.token) is not None:
            person.timer_running = True


async def _drive(share: Share) -> Tally:
    tally = Tally()
    per_person = share.rate / len(share.people)
    ops, weights = list(share.mix), list(share.mix.values())
    # One connection per simulated person (each has at most one request in flight): waiting for the
    # generator's own pool would be counted as the server's latency.
    connector = aiohttp.TCPConnector(limit=len(share.people), force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(share.base_url, connector=connector, timeout=timeout) as session:
        client = Client(session, tally)
        await asyncio.sleep(max(0.0, share.start_at - time.time()))
        cpu_started = time.process_time()
        deadline = time.perf_counter() + share.seconds

        async def live(person: Person) -> None:
            # Poisson arrivals per person, but never two requests of one person at once.
            rng = random.Random()
            await asyncio.sleep(min(rng.uniform(0, 1 / per_person), share.seconds))
            while time.perf_counter() < deadline:
                turn = time.perf_counter()
                await act(
                    client, rng.choices(ops, weights)[0], person, rng.choice(share.supervisors), share.unpaid_leave_type
                )
                pause = rng.expovariate(per_person) - (time.perf_counter() - turn)
                # Never past the end: a last pause would stretch the run and dilute requests/s.
                await asyncio.sleep(max(0.0, min(pause, deadline - time.perf_counter())))

        await asyncio.gather(*(live(person) for person in share.people))
        tally.cpu_seconds = time.process_time() - cpu_started
    return tally


def run_share(share: Share) -> Tally:
    """Drive one share to the end (the entry point of a generator process)."""
    return uvloop.run(_drive(share))
