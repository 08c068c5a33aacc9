"""``python -m bench.chat``: chat messages over the WebSocket through the real app, acked after commit.

Creates a fresh migrated database, seeds a tenant with ``conversations`` private channels of
``members`` users each, starts ``python -m api.cli serve`` on it, logs every user in over HTTP,
connects one socket per user with ``Authorization: Bearer`` and sends ``send`` frames at ``rate``
messages/s across the conversations. Prints one JSON line: ``sent``, ``acked``, ``persisted``
(rows in ``message``), ack and delivery latency percentiles, ``lost``, ``duplicates``. ``unacked``
and ``lost`` count what had not arrived 15 s after the last send (an overloaded server may still
hold it; a real client would retry with the same ``client_id``). The database is dropped at the
end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
import redis.asyncio as aioredis

from bench.chatdb import PASSWORD, BenchDatabase, ChatSeed, seed_chat
from bench.chatload import Spec
from bench.fanout import _expect, _percentile, _tell
from bench.nodes import ROOT, free_port

LOGIN_CONCURRENCY = 4


class AppServer:
    """``python -m api.cli serve`` on a free port of 127.0.0.1, on the bench database and Redis."""

    def __init__(self, *, database: BenchDatabase, redis_url: str, data_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        env = {
            **os.environ,
            "FIELDHUB_DATABASE_URL": database.dsn,
            "FIELDHUB_REDIS_URL": redis_url,
            "FIELDHUB_DATA_DIR": str(data_dir),
            "FIELDHUB_SECRET_KEY": "bench-secret-key-not-for-production",
            "FIELDHUB_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
            + (["--workers", str(workers)] if workers > 1 else []),
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health/ready", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError("server did not start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


async def login_all(base_url: str, seed: ChatSeed) -> list[str]:
    """A bearer token per user, through ``POST /api/v1/auth/login`` (a few at a time: argon2 is CPU-bound)."""
    gate = asyncio.Semaphore(LOGIN_CONCURRENCY)
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:

        async def one(email: str) -> str:
            async with gate:
                response = await client.post(
                    "/api/v1/auth/login", json={"email": email, "password": PASSWORD, "tenant": seed.slug}
                )
                response.raise_for_status()
                token: str = response.json()["token"]
                return token

        return list(await asyncio.gather(*(one(email) for email in seed.emails)))


async def count_persisted(database: BenchDatabase, seed: ChatSeed) -> int:
    connection = await asyncpg.connect(database.dsn)
    try:
        return int(await connection.fetchval("SELECT count(*) FROM message WHERE tenant_id = $1", seed.tenant_id))
    finally:
        await connection.close()


async def forget_redis_keys(redis_url: str, seed: ChatSeed) -> None:
    """Remove the bench tenant's presence and typing keys from the shared Redis."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        async for key in client.scan_iter(match=f"t:{seed.tenant_id}:*", count=1_000):
            await client.delete(key)
    finally:
        await client.aclose()


def _spawn(spec_file: Path, name: str, rate: float, seconds: float, body_bytes: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.chatload",
            "--spec",
            str(spec_file),
            "--name",
            name,
            "--rate",
            str(rate),
            "--seconds",
            str(seconds),
            "--body-bytes",
            str(body_bytes),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _profile(pid: int, seconds: float, output: str) -> subprocess.Popen[bytes]:
    """py-spy samples the server while the messages flow (collapsed stacks, one line per stack)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    # --subprocesses: with --workers N the pid is uvicorn's supervisor and the work is in its children.
    command = [py_spy, "record", "--pid", str(pid), "--subprocesses", "--duration", str(int(seconds)), "--rate", "200"]
    return subprocess.Popen([*command, "--format", "raw", "--nonblocking", "--output", output])


def drive(args: argparse.Namespace, server: AppServer, seed: ChatSeed, tokens: list[str], folder: Path) -> list[Any]:
    """Spawn the load generators, run the send window, and collect their result lines."""
    share = -(-len(seed.conversation_ids) // args.processes)
    processes: list[subprocess.Popen[str]] = []
    profiler: subprocess.Popen[bytes] | None = None
    try:
        for index in range(args.processes):
            chosen = range(index * share, min((index + 1) * share, len(seed.conversation_ids)))
            spec = Spec(
                url=f"ws://127.0.0.1:{server.port}/ws",
                conversation_ids=[str(seed.conversation_ids[c]) for c in chosen],
                tokens=[[tokens[i] for i in seed.rooms[c]] for c in chosen],
            )
            spec_file = folder / f"spec-{index}.json"
            spec_file.write_bytes(msgspec.json.encode(spec))
            rate = args.rate * len(chosen) / len(seed.conversation_ids)
            processes.append(_spawn(spec_file, f"p{index}", rate, args.seconds, args.body_bytes))
        for process in processes:
            if _expect(process) != "ready":
                raise RuntimeError("load generator failed")
        time.sleep(1.0)
        if args.profile:
            profiler = _profile(server.process.pid, args.seconds, args.profile)
        for process in processes:
            _tell(process, "go")
        results = [json.loads(_expect(process)) for process in processes]
        for process in processes:
            _tell(process, "stop")
        if profiler is not None:
            profiler.wait(timeout=args.seconds + 30)
        return results
    finally:
        for process in processes:
            process.kill()
            process.wait()
        if profiler is not None and profiler.poll() is None:
            profiler.kill()
            profiler.wait()


def summarize(args: argparse.Namespace, results: list[Any], persisted: int) -> dict[str, Any]:
    ack: dict[int, int] = {}
    delivery: dict[int, int] = {}
    for result in results:
        for source, target in ((result["ack"], ack), (result["delivery"], delivery)):
            for bucket, hits in source.items():
                target[int(bucket)] = target.get(int(bucket), 0) + hits
    sent = sum(r["sent"] for r in results)
    elapsed = max(r["elapsed"] for r in results)
    refused: dict[str, int] = {}
    for result in results:
        for code, hits in result["refused"].items():
            refused[code] = refused.get(code, 0) + hits
    return {
        "conversations": args.conversations,
        "members": args.members,
        "rate": args.rate,
        "seconds": args.seconds,
        "sent": sent,
        "sent_per_s": round(sent / elapsed),
        "acked": sum(r["acked"] for r in results),
        "unacked": sent - sum(r["acked"] for r in results) - sum(refused.values()),
        "refused": refused,
        "persisted": persisted,
        "ack_p50_ms": _percentile(ack, 0.50),
        "ack_p99_ms": _percentile(ack, 0.99),
        "delivery_p50_ms": _percentile(delivery, 0.50),
        "delivery_p99_ms": _percentile(delivery, 0.99),
        "delivered_per_s": round(sum(r["delivered"] for r in results) / elapsed),
        "lost": sum(r["expected_deliveries"] - r["delivered"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "closed_sockets": sum(r["closed"] for r in results),
    }


async def _prepare(args: argparse.Namespace) -> tuple[BenchDatabase, ChatSeed]:
    database = await BenchDatabase.create()
    try:
        seed = await seed_chat(
            database,
            conversations=args.conversations,
            members=args.members,
            users=args.conversations * args.members,
        )
    except BaseException:
        await database.drop()
        raise
    return database, seed


def run(args: argparse.Namespace) -> dict[str, Any]:
    if not args.redis.startswith("redis://127.0.0.1:"):
        raise SystemExit("benchmarks run only against 127.0.0.1")
    database, seed = asyncio.run(_prepare(args))
    server: AppServer | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="fieldhub-bench-") as folder:
            server = AppServer(
                database=database, redis_url=args.redis, data_dir=Path(folder) / "data", workers=args.workers
            )
            server.wait_ready()
            started = time.monotonic()
            tokens = asyncio.run(login_all(server.base_url, seed))
            print(f"logged in {len(tokens)} users in {time.monotonic() - started:.1f} s", file=sys.stderr)
            results = drive(args, server, seed, tokens, Path(folder))
            persisted = asyncio.run(count_persisted(database, seed))
    finally:
        if server is not None:
            server.stop()
        asyncio.run(forget_redis_keys(args.redis, seed))
        if not args.keep:
            asyncio.run(database.drop())
        else:
            print(f"kept database {database.name}", file=sys.stderr)
    return summarize(args, results, persisted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--members", type=int, default=20, help="users per conversation (one socket each)")
    parser.add_argument("--rate", type=float, default=2_000, help="messages per second across all conversations")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--body-bytes", type=int, default=100)
    parser.add_argument("--processes", type=int, default=2, help="load-generator processes")
    parser.add_argument("--workers", type=int, default=1, help="server processes (fieldhub serve --workers)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--profile", help="write py-spy's collapsed stacks of the server to this file")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    print(json.dumps(run(parser.parse_args())), flush=True)


if __name__ == "__main__":
    main()
