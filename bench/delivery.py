"""``python -m bench.delivery``: notification email and push through the full path, with a worker killed mid-run.

For each channel (email, then push) on a fresh migrated database ``fieldhub_bench_<hex>``:

1. seeds one tenant (``--users`` users, each with one push subscription at the local push
   stand-in) and two tenant categories sending right away, ``bench-email`` (inbox + email) and
   ``bench-push`` (inbox + push);
2. starts ``--workers`` ``fieldhub worker`` processes (``python -m api.cli worker --concurrency N``)
   on that database, the local Redis, the SMTP sink and a fresh secret key;
3. calls ``delivery.notify`` in transactions of ``--batch`` recipients from ``--producers``
   concurrent tasks until ``--notifications`` notifications are committed (at ``--rate`` per
   second, or as fast as it can), while the worker claims, sends and records;
4. once ``--kill-at`` of them are committed, kills worker 0 with SIGKILL and starts a new one; the
   jobs it held come back when their lease (120 s) runs out, so a run with a kill lasts at least
   that long;
5. waits until every job of the channel is finished (bounded), then counts what the sinks got
   (``bench/delivery_sinks.py``): unique ``Message-ID``s (derived from the job) for email, unique
   notification ids of the decrypted payloads for push.

Prints one JSON line per channel. ``lost`` = notifications committed whose mail or push never
arrived. Duplicates are counted twice over: ``duplicated_received`` = notifications the sink
received more than once (``extra_arrivals`` in all): a job re-claimed after the kill sends again
what the killed worker had sent but not yet recorded; ``duplicated_seen`` = notifications a user
would see twice: mail under two ``Message-ID``s, or a push to one subscription under two ``Topic``s
(a re-send carries the same ones, so the second copy merges with or replaces the first; this should
be 0 always). ``unexpected`` = arrivals matching no notification.
``delivered_per_s`` is the sustained rate: first-attempt arrivals over the time from the first
commit to the last of them (the jobs re-claimed after the kill arrive after their lease and are
reported apart, ``reclaimed``). ``d`` = seconds of the run during which someone else's ``pytest``
or ``mypy`` ran; ``cpu_ms_per_message`` = CPU time of the producer (this process), the workers,
the sinks and the database's backends per delivered message, and ``cpu_bound_per_s`` what that
would allow on two idle cores. The database is dropped at the end (``--keep`` keeps it) and the
tenant's Redis keys are deleted. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import redis.asyncio as aioredis

from api.provisioning import create_tenant, create_user
from bench.chatdb import BenchDatabase
from bench.nodes import ROOT
from delivery.notify import Recipients, notify
from delivery.outbox import EMAIL_NOTIFICATION_JOB, PUSH_JOB
from delivery.push import SubscriptionInfo, SubscriptionKeys
from delivery.subscriptions import save_subscription
from delivery.worker import DEFAULT_LEASE_SECONDS
from persistence.engine import Database
from persistence.models import NotificationCategory

SECRET = "bench-secret-key-not-for-production"  # noqa: S105 - a throwaway database's
MAIL_DOMAIN = "bench.fieldhub.test"
CATEGORY = {"email": "bench-email", "push": "bench-push"}
JOB_KIND = {"email": EMAIL_NOTIFICATION_JOB, "push": PUSH_JOB}
DRAIN_SECONDS = 90.0
"""After the last commit, how long the workers may take to catch up (besides the lease wait)."""


# -- the sinks process ----------------------------------------------------------------------------


class Sinks:
    """``python -m bench.delivery_sinks``: the SMTP sink and the push stand-in."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bench.delivery_sinks"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            start_new_session=True,
        )
        words = self._expect().split()
        if words[0] != "ready":
            raise RuntimeError(f"sinks did not start: {words}")
        self.smtp_port, self.push_port = int(words[1]), int(words[2])
        self.keys = SubscriptionKeys(p256dh=words[3], auth=words[4])

    def _expect(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the sinks process died")
        return line.strip()

    def _ask(self, command: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._expect()

    def count(self) -> dict[str, int]:
        counts: dict[str, int] = json.loads(self._ask("count"))
        return counts

    def dump(self, folder: Path) -> dict[str, Any]:
        target = folder / f"arrivals-{secrets.token_hex(3)}.json"
        self._ask(f"dump {target}")
        arrivals: dict[str, Any] = json.loads(target.read_text())
        target.unlink()
        return arrivals

    def reset(self) -> None:
        self._ask("reset")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._ask("stop")
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# -- worker processes -----------------------------------------------------------------------------


class WorkerProcess:
    """``python -m api.cli worker --concurrency N`` on the bench database, its output in ``log``."""

    def __init__(self, *, env: dict[str, str], concurrency: int, log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "worker", "--concurrency", str(concurrency)],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: no grace, no release of claimed jobs (their lease has to run out)."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM: the worker finishes or releases what it holds."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(database: BenchDatabase, redis_url: str, smtp_port: int, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "FIELDHUB_DATABASE_URL": database.dsn,
        "FIELDHUB_REDIS_URL": redis_url,
        "FIELDHUB_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "FIELDHUB_MAIL_FROM": f"fieldhub <noreply@{MAIL_DOMAIN}>",
        "FIELDHUB_PUBLIC_URL": f"https://{MAIL_DOMAIN}",
        "FIELDHUB_VAPID_SUBJECT": f"mailto:ops@{MAIL_DOMAIN}",
        "FIELDHUB_SECRET_KEY": SECRET,
        "FIELDHUB_DATA_DIR": str(data_dir),
        "FIELDHUB_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }


# -- seeding and producing ------------------------------------------------------------------------


@dataclass
class Seed:
    tenant_id: UUID
    user_ids: list[UUID] = field(default_factory=list)


async def seed_tenant(database: BenchDatabase, *, users: int, push_port: int, keys: SubscriptionKeys) -> Seed:
    """One tenant, ``users`` users each with a push subscription at the stand-in, and the two bench categories."""
    db = Database(url=database.app_url, pool_size=2)
    try:
        async with db.transaction() as session:
            tenant = await create_tenant(session, name="Bench", slug=f"bench-{secrets.token_hex(3)}")
            seed = Seed(tenant_id=tenant.id)
            for index in range(users):
                user = await create_user(
                    session, tenant_id=tenant.id, email=f"u{index}@{MAIL_DOMAIN}", name=f"User {index}", password=None
                )
                seed.user_ids.append(user.id)
            for channel, key in CATEGORY.items():
                session.add(
                    NotificationCategory(
                        tenant_id=tenant.id,
                        key=key,
                        name=f"Bench {channel}",
                        in_app=True,
                        email=channel == "email",
                        push=channel == "push",
                        push_delay_seconds=0,
                        email_delay_seconds=0,
                    )
                )
            await session.flush()
            for index, user_id in enumerate(seed.user_ids):
                await save_subscription(
                    session,
                    tenant_id=tenant.id,
                    user_id=user_id,
                    info=SubscriptionInfo(endpoint=f"http://127.0.0.1:{push_port}/push/u{index}", keys=keys),
                    allow_insecure=True,  # the stand-in speaks plain http on loopback
                )
        return seed
    finally:
        await db.dispose()


@dataclass
class Produced:
    committed: dict[str, float] = field(default_factory=dict)
    """Notification id -> when its transaction committed (unix time)."""
    first_commit: float = 0.0
    last_commit: float = 0.0


async def produce(
    database: BenchDatabase,
    seed: Seed,
    *,
    channel: str,
    total: int,
    batch: int,
    producers: int,
    rate: float | None,
    on_count: Any,
) -> Produced:
    """Commit ``total`` notifications through ``delivery.notify``, ``batch`` recipients per transaction.

    Producer ``k`` uses its own share of the users (no two transactions wait on one inbox row).
    ``on_count(n)`` is called after each commit with the running total.
    """
    db = Database(url=database.app_url, pool_size=producers)
    produced = Produced()
    shares = [seed.user_ids[k::producers] for k in range(producers)]
    calls = -(-total // batch)
    next_call = 0
    started = time.monotonic()

    async def producer(share: list[UUID]) -> None:
        nonlocal next_call
        offset = 0
        while next_call < calls:
            call = next_call
            next_call += 1
            size = min(batch, total - call * batch)
            if rate:
                delay = started + call * batch / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            users = [share[(offset + i) % len(share)] for i in range(size)]
            offset += size
            async with db.transaction(tenant_id=seed.tenant_id) as session:
                ids = await notify(
                    session,
                    tenant_id=seed.tenant_id,
                    recipients=Recipients(users=users),
                    category=CATEGORY[channel],
                    title=f"Bench {channel} {call}",
                    body="Aisle 4 restocked; planogram 12 applies from tomorrow.",
                    link="/notifications",
                    idempotency_key=f"bench-{channel}-{call}",
                )
            now = time.time()
            if not produced.first_commit:
                produced.first_commit = now
            produced.last_commit = now
            for notification_id in ids:
                produced.committed[str(notification_id)] = now
            on_count(len(produced.committed))

    try:
        await asyncio.gather(*(producer(share) for share in shares))
    finally:
        await db.dispose()
    return produced


async def job_states(database: BenchDatabase, tenant_id: UUID, kind: str) -> list[asyncpg.Record]:
    """Every job of ``kind`` in the tenant: id, notification id, status, attempts (read as the owner)."""
    connection = await asyncpg.connect(database.dsn)
    try:
        return list(
            await connection.fetch(
                "SELECT id, payload->>'notification_id' AS notification_id, status, attempts"
                " FROM job WHERE tenant_id = $1 AND kind = $2",
                tenant_id,
                kind,
            )
        )
    finally:
        await connection.close()


async def unfinished_jobs(database: BenchDatabase, tenant_id: UUID, kind: str) -> int:
    """How many jobs of ``kind`` are still queued or running (one cheap count: this is polled)."""
    connection = await asyncpg.connect(database.dsn)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM job WHERE tenant_id = $1 AND kind = $2 AND status IN ('queued', 'running')",
                tenant_id,
                kind,
            )
        )
    finally:
        await connection.close()


async def set_aside_jobs(database: BenchDatabase, tenant_id: UUID, kind: str) -> None:
    connection = await asyncpg.connect(database.dsn)
    try:
        await connection.execute(
            "UPDATE job SET status = 'done', finished_at = now(), last_error = 'bench over'"
            " WHERE tenant_id = $1 AND kind = $2"
            " AND status IN ('queued', 'running')",
            tenant_id,
            kind,
        )
    finally:
        await connection.close()


async def delivery_states(database: BenchDatabase, tenant_id: UUID, channel: str) -> dict[str, int]:
    connection = await asyncpg.connect(database.dsn)
    try:
        rows = await connection.fetch(
            "SELECT d.status, count(*) AS n FROM notification_delivery AS d"
            " JOIN notification AS n ON n.id = d.notification_id"
            " WHERE d.tenant_id = $1 AND d.channel = $2 AND n.category = $3 GROUP BY d.status",
            tenant_id,
            channel,
            CATEGORY[channel],
        )
        return {row["status"]: int(row["n"]) for row in rows}
    finally:
        await connection.close()


async def forget_redis_keys(redis_url: str, tenant_id: UUID) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"t:{tenant_id}:*", count=1_000):
            await client.delete(key)
    finally:
        await client.aclose()


# -- one channel ----------------------------------------------------------------------------------


class Disturbance:
    """Samples once a second whether someone else's ``pytest`` or ``mypy`` runs (``d`` on the
    benchmarks page), the load average, and the CPU time of every process of the run.

    CPU time is kept per process and summed by part: ``bench`` (this process: the producer calling
    ``notify``), ``worker`` (the ``fieldhub worker`` processes, killed ones included up to their last
    sample), ``sinks`` (SMTP sink and push stand-in) and ``postgres`` (the backends serving the
    bench database). On a machine shared with other work, CPU time per message says what the path
    costs when wall-clock rates only say how busy the machine was.
    """

    def __init__(self, database_name: str) -> None:
        self.seconds = 0
        self.disturbed = 0
        self.load: list[float] = []
        self._database = database_name.encode()
        self._cpu: dict[int, tuple[str, float, float]] = {}  # pid -> (part, first seen, last seen)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._sample()
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()
            self._sample()

    def cpu_seconds(self) -> dict[str, float]:
        parts: dict[str, float] = {}
        for part, first, last in self._cpu.values():
            parts[part] = parts.get(part, 0.0) + last - first
        return parts

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.seconds += 1
            self.load.append(os.getloadavg()[0])
            if self._sample():
                self.disturbed += 1

    def _sample(self) -> bool:
        """Read every process once: CPU of ours, and whether another test run or type check is on."""
        others = False
        mine = os.getpid()
        tick = os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes()
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if b"pytest" in command or b"mypy" in command:
                others = True
            pid = int(entry.name)
            fields = stat.rpartition(")")[2].split()
            parent, cpu = int(fields[1]), (int(fields[11]) + int(fields[12])) / tick
            if pid == mine:
                part = "bench"
            elif parent == mine and b"api.cli\x00worker" in command:
                part = "worker"
            elif parent == mine and b"bench.delivery_sinks" in command:
                part = "sinks"
            elif b"postgres:" in command and self._database in command:
                part = "postgres"
            else:
                continue
            known = self._cpu.get(pid)
            # A process first seen during the run counts from zero: it started within it.
            first = known[1] if known else (cpu if not self._thread.is_alive() else 0.0)
            self._cpu[pid] = (part, first, cpu)
        return others


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _profile(pid: int, seconds: float, output: str) -> subprocess.Popen[bytes]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [py_spy, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate", "200"]
    return subprocess.Popen([*command, "--format", "raw", "--nonblocking", "--output", output])


async def run_channel(
    args: argparse.Namespace, channel: str, database: BenchDatabase, seed: Seed, sinks: Sinks, folder: Path
) -> dict[str, Any]:
    sinks.reset()
    env = worker_env(database, args.redis, sinks.smtp_port, folder / "data")
    log = folder / f"worker-{channel}.log"
    workers = [WorkerProcess(env=env, concurrency=args.concurrency, log=log) for _ in range(args.workers)]
    kill_after = int(args.notifications * args.kill_at) if args.kill_at > 0 else None
    killed_at: float | None = None
    profiler: subprocess.Popen[bytes] | None = None

    def on_count(count: int) -> None:
        nonlocal killed_at
        if kill_after is not None and killed_at is None and count >= kill_after:
            workers[0].kill()
            killed_at = time.time()
            workers[0] = WorkerProcess(env=env, concurrency=args.concurrency, log=log)

    disturbance = Disturbance(database.name)
    try:
        await asyncio.sleep(args.warmup)  # the workers import, connect and LISTEN
        disturbance.start()
        if args.profile:
            profiler = _profile(workers[-1].pid, args.profile_seconds, f"{args.profile}.{channel}")
        produced = await produce(
            database,
            seed,
            channel=channel,
            total=args.notifications,
            batch=args.batch,
            producers=args.producers,
            rate=args.rate,
            on_count=on_count,
        )
        # Wait until every job of the channel is finished: the killed worker's come back after their lease.
        deadline = time.time() + DRAIN_SECONDS + (DEFAULT_LEASE_SECONDS + 15 if killed_at else 0)
        kind = JOB_KIND[channel]
        while time.time() < deadline:
            if not await unfinished_jobs(database, seed.tenant_id, kind):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # a last arrival may still be in flight
        for worker in workers:
            worker.stop()
        jobs = await job_states(database, seed.tenant_id, kind)
        arrivals = sinks.dump(folder)[channel]
        deliveries = await delivery_states(database, seed.tenant_id, channel)
        # What is still waiting must not run into the next channel's measurement.
        await set_aside_jobs(database, seed.tenant_id, kind)
    finally:
        disturbance.stop()
        for worker in workers:
            worker.kill()
        if profiler is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                profiler.wait(timeout=args.profile_seconds + 30)
            if profiler.poll() is None:
                profiler.kill()
                profiler.wait()
    result = summarize(args, channel, produced, jobs, arrivals, deliveries, killed_at, log)
    result["d"] = disturbance.disturbed
    result["run_s"] = disturbance.seconds
    result["load_avg"] = round(sum(disturbance.load) / max(len(disturbance.load), 1), 1)
    cpu = disturbance.cpu_seconds()
    delivered = max(result["received_unique"], 1)
    per_message = {part: round(seconds * 1000 / delivered, 3) for part, seconds in sorted(cpu.items())}
    per_message["total"] = round(sum(cpu.values()) * 1000 / delivered, 3)
    result["cpu_ms_per_message"] = per_message
    # Two cores doing nothing else: what the CPU time per message would allow.
    result["cpu_bound_per_s"] = round(2000 / per_message["total"]) if per_message["total"] else None
    return result


def _seen_twice(channel: str, arrivals: list[list[Any]], notification_of: dict[str, str]) -> int:
    """Notifications a user would see twice: mailed under two ``Message-ID``s (a mail client shows
    one message per Message-ID), or pushed to one subscription under two ``Topic``s or none (a
    second push with the same Topic replaces the first at the push service, and the service worker
    shows it under the same tag, replacing the first on screen)."""
    if channel == "email":
        return sum(1 for count in Counter(notification_of.values()).values() if count > 1)
    shown: dict[tuple[str, str], set[str]] = {}
    for index, (key, _, topic, subscription) in enumerate(arrivals):
        # Without a Topic nothing replaces the earlier push: each such arrival is one more on screen.
        shown.setdefault((key, subscription), set()).add(topic or f"no-topic-{index}")
    return len({key for (key, _), topics in shown.items() if len(topics) > 1})


def summarize(
    args: argparse.Namespace,
    channel: str,
    produced: Produced,
    jobs: list[asyncpg.Record],
    arrivals: list[list[Any]],
    deliveries: dict[str, int],
    killed_at: float | None,
    log: Path,
) -> dict[str, Any]:
    # What each arrival is keyed by: the job's Message-ID for email, the notification id for push.
    if channel == "email":
        expected = {f"<{j['id']}@{MAIL_DOMAIN}>": j["notification_id"] for j in jobs}
    else:
        expected = {j["notification_id"]: j["notification_id"] for j in jobs}
    attempts = {j["notification_id"]: j["attempts"] for j in jobs}
    seen = Counter(arrival[0] for arrival in arrivals)
    first: dict[str, float] = {}
    for arrival in arrivals:
        first.setdefault(arrival[0], arrival[1])
    notification_of = {key: expected[key] for key in seen if key in expected}
    received = set(notification_of.values())
    committed = set(produced.committed)
    # First-attempt arrivals make the sustained rate; re-claimed jobs wait out the lease.
    on_time = [first[k] for k, n in notification_of.items() if attempts.get(n, 1) == 1]
    end = max(on_time, default=produced.last_commit)
    latencies = [(first[k] - produced.committed[n]) * 1000 for k, n in notification_of.items() if n in committed]
    errors = sum(1 for line in log.read_text(errors="replace").splitlines() if "Traceback" in line)
    return {
        "channel": channel,
        "notifications": len(committed),
        "jobs": len(jobs),
        "created_per_s": round(len(committed) / max(produced.last_commit - produced.first_commit, 1e-3)),
        "delivered_per_s": round(len(on_time) / max(end - produced.first_commit, 1e-3)),
        "seconds": round(end - produced.first_commit, 2),
        "received_unique": len(received & committed),
        "lost": len(committed - received),
        "duplicated_received": sum(1 for count in seen.values() if count > 1),
        "extra_arrivals": sum(count - 1 for count in seen.values() if count > 1),
        "duplicated_seen": _seen_twice(channel, arrivals, notification_of),
        "unexpected": sum(count for key, count in seen.items() if key not in expected),
        "reclaimed": sum(1 for a in attempts.values() if a > 1),
        "killed_at_s": round(killed_at - produced.first_commit, 2) if killed_at else None,
        "latency_p50_ms": round(_percentile(latencies, 0.5)),
        "latency_p99_ms": round(_percentile(latencies, 0.99)),
        "deliveries": deliveries,
        "jobs_not_done": sum(1 for j in jobs if j["status"] != "done"),
        "worker_tracebacks": errors,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "batch": args.batch,
    }


async def _prepare(args: argparse.Namespace, sinks: Sinks) -> tuple[BenchDatabase, Seed]:
    database = await BenchDatabase.create()
    try:
        seed = await seed_tenant(database, users=args.users, push_port=sinks.push_port, keys=sinks.keys)
    except BaseException:
        await database.drop()
        raise
    return database, seed


async def _run(args: argparse.Namespace) -> None:
    sinks = Sinks()
    database: BenchDatabase | None = None
    seed: Seed | None = None
    try:
        database, seed = await _prepare(args, sinks)
        with tempfile.TemporaryDirectory(prefix="fieldhub-bench-") as name:
            folder = Path(name)
            for channel in args.channels:
                result = await run_channel(args, channel, database, seed, sinks, folder)
                print(json.dumps(result), flush=True)
    finally:
        sinks.stop()
        if seed is not None:
            await forget_redis_keys(args.redis, seed.tenant_id)
        if database is not None:
            if args.keep:
                print(f"kept database {database.name}", file=sys.stderr)
            else:
                await database.drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", nargs="+", choices=["email", "push"], default=["email", "push"])
    parser.add_argument("--notifications", type=int, default=10_000, help="per channel")
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--batch", type=int, default=100, help="recipients per notify call (one transaction)")
    parser.add_argument("--producers", type=int, default=2, help="concurrent notify transactions")
    parser.add_argument("--rate", type=float, default=None, help="notifications/s offered (default: flat out)")
    parser.add_argument("--workers", type=int, default=2, help="fieldhub worker processes (one per core)")
    parser.add_argument("--concurrency", type=int, default=64, help="fieldhub worker --concurrency")
    parser.add_argument("--kill-at", type=float, default=0.5, help="SIGKILL worker 0 after this share (0: never)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds for the workers to start")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", help="py-spy collapsed stacks of the last worker, to FILE.<channel>")
    parser.add_argument("--profile-seconds", type=float, default=20)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    if not args.redis.startswith("redis://127.0.0.1:"):
        raise SystemExit("benchmarks run only against 127.0.0.1")
    if args.notifications < 1 or args.batch < 1 or args.producers < 1 or args.workers < 1:
        raise SystemExit("--notifications, --batch, --producers and --workers must be positive")
    try:
        import uvloop
    except ImportError:
        asyncio.run(_run(args))
    else:
        uvloop.run(_run(args))


if __name__ == "__main__":
    main()
