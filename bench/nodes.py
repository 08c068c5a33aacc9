"""Start benchmark nodes (uvicorn or granian processes) and read their memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Literal

Server = Literal["uvicorn", "granian"]
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BenchNode:
    """One app process serving ``/ws`` on its own port."""

    def __init__(
        self, *, server: Server, redis_url: str, rooms: int, durable: bool = False, cluster: bool = False
    ) -> None:
        self.port = free_port()
        env = {**os.environ, "BENCH_REDIS_URL": redis_url, "BENCH_ROOMS": str(rooms), "PYTHONPATH": str(ROOT)}
        if durable:
            env["BENCH_DURABLE"] = "1"
        if cluster:
            env["BENCH_REDIS_CLUSTER"] = "1"
        if server == "uvicorn":
            args = [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--ws",
                "websockets-sansio",
                "--ws-per-message-deflate",
                "false",
                "--log-level",
                "warning",
                "--no-access-log",
            ]
        else:
            args = [
                str(Path(sys.executable).with_name("granian")),
                "--interface",
                "asgi",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--loop",
                "uvloop",
                "--log-level",
                "warning",
                "--no-access-log",
                "bench.app:create_app",
            ]
        self.process = subprocess.Popen(args, env=env, cwd=ROOT, start_new_session=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"node exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("bench node did not start")

    def rss_kib(self) -> int:
        """Resident memory of the node's process tree (granian serves from a child process)."""
        return sum(_rss_kib(pid) for pid in _tree(self.process.pid))

    def cpu_s(self) -> float:
        """CPU time (user + system, seconds) of the node's process tree so far: load-independent cost."""
        return sum(_cpu_s(pid) for pid in _tree(self.process.pid))

    def kill(self) -> None:
        """Crash the node: SIGKILL, no drain, sockets dropped by the kernel."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def forget_bench_keys(redis_url: str, *, cluster: bool = False) -> None:
    """Delete the bench namespace's keys (presence, last seen: kept 90 days otherwise) from Redis."""
    import redis
    from redis.cluster import RedisCluster

    # A cluster client scans every primary and splits a multi-key DELETE by slot.
    client = RedisCluster.from_url(redis_url) if cluster else redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="t:bench:*", count=1_000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def _tree(pid: int) -> list[int]:
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            pids += _tree(int(child))
    return pids


def _cpu_s(pid: int) -> float:
    try:
        # Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0
