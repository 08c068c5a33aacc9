"""``python -m bench.fanout``: deliveries per second, latency, loss and memory of the hub under fan-out.

K node processes on one Redis, receivers holding N sockets in R rooms, a sender at a fixed rate; one JSON line out.
With ``--redis-cluster [URL]`` the nodes use sharded pub/sub on a Redis Cluster (a local 3-primary one
started for the run when no URL is given).
With ``--kill-after S`` the rooms are durable, the last node is killed (SIGKILL) S seconds into the
run, and its clients reconnect to the other nodes and resume from their last ``seq``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from bench.nodes import BenchNode, forget_bench_keys
from bench.redis_cluster import LocalRedisCluster

SETTLE_S = 2.0
LOCAL_CLUSTER = "local"
"""``--redis-cluster`` without a URL: start a 3-primary cluster from the machine's redis-server."""


def _spawn(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.loadgen", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )


def _expect(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError("load generator died")
    return line.strip()


def _tell(process: subprocess.Popen[str], word: str) -> None:
    assert process.stdin is not None
    process.stdin.write(word + "\n")
    process.stdin.flush()


def _percentile(histogram: dict[int, int], fraction: float) -> float:
    total = sum(histogram.values())
    if not total:
        return 0.0
    rank = fraction * total
    running = 0
    for bucket in sorted(histogram):
        running += histogram[bucket]
        if running >= rank:
            return bucket / 10
    return max(histogram) / 10


def run(args: argparse.Namespace) -> dict[str, Any]:
    killing = args.kill_after is not None
    if killing and args.nodes < 2:
        raise SystemExit("--kill-after needs --nodes 2 or more")
    nodes = [
        BenchNode(server=args.server, redis_url=args.redis, rooms=args.rooms, durable=killing, cluster=args.cluster)
        for _ in range(args.nodes)
    ]
    receivers: list[subprocess.Popen[str]] = []
    sender: subprocess.Popen[str] | None = None
    try:
        for node in nodes:
            node.wait_ready()
        time.sleep(0.5)
        base_rss = sum(node.rss_kib() for node in nodes)
        urls = ",".join(node.url for node in nodes)
        share = -(-args.connections // args.receivers)
        for index in range(args.receivers):
            first = index * share
            count = min(share, args.connections - first)
            receive = ["receive", "--urls", urls, "--first", str(first), "--count", str(count)]
            receivers.append(_spawn([*receive, "--resume"] if killing else receive))
        for process in receivers:
            if _expect(process) != "ready":
                raise RuntimeError("receiver failed")
        time.sleep(SETTLE_S)
        idle_rss = sum(node.rss_kib() for node in nodes)
        sender = _spawn(
            [
                "send",
                "--urls",
                # The senders stay on the first node, which survives: the receivers are the clients measured.
                nodes[0].url if killing else urls,
                "--rooms",
                str(args.rooms),
                "--rate",
                str(args.rate),
                "--seconds",
                str(args.seconds),
            ]
        )
        if _expect(sender) != "ready":
            raise RuntimeError("sender failed")
        cpu_before = sum(node.cpu_s() for node in nodes)
        _tell(sender, "go")
        if killing:
            threading.Timer(args.kill_after, nodes[-1].kill).start()
        sent_report = json.loads(_expect(sender))
        time.sleep(args.drain)
        # A killed node's CPU is gone from /proc: only meaningful without --kill-after.
        cpu_used = sum(node.cpu_s() for node in nodes) - cpu_before
        results = []
        for process in receivers:
            _tell(process, "stop")
            results.append(json.loads(_expect(process)))
        _tell(sender, "stop")
    finally:
        for process in [*receivers, *([sender] if sender else [])]:
            process.kill()
            process.wait()
        for node in nodes:
            node.stop()
        forget_bench_keys(args.redis, cluster=args.cluster)
    sent: list[int] = sent_report["sent"]
    histogram: dict[int, int] = {}
    lost = duplicates = delivered = resumes = unrecovered = failed_attempts = 0
    for result in results:
        for bucket, hits in result["latency"].items():
            histogram[int(bucket)] = histogram.get(int(bucket), 0) + hits
        for sock in result["sockets"]:
            expected = sent[sock["user"] % args.rooms]
            lost += max(0, expected - sock["unique"])
            duplicates += sock["dups"]
            resumes += sock["resumes"]
            unrecovered += sock["unrecovered"]
            failed_attempts += sock["failed_attempts"]
            delivered += sock["unique"] + sock["dups"]
    return {
        "server": args.server,
        "nodes": args.nodes,
        "connections": args.connections,
        "redis": "cluster" if args.cluster else "single",
        "rooms": args.rooms,
        "rate": args.rate,
        "seconds": args.seconds,
        "delivered_per_s": round(delivered / sent_report["elapsed"]),
        "p50_ms": _percentile(histogram, 0.50),
        "p99_ms": _percentile(histogram, 0.99),
        "lost": lost,
        "duplicates": duplicates,
        "rss_per_idle_conn_kib": round((idle_rss - base_rss) / args.connections, 1),
        "node_cpu_us_per_delivery": round(cpu_used * 1e6 / delivered, 2) if delivered and not killing else None,
        **(
            {
                "killed_after_s": args.kill_after,
                "resumed_sockets": resumes,
                "unrecovered_resumes": unrecovered,
                "failed_reconnects": failed_attempts,
            }
            if killing
            else {}
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=1_000)
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--rate", type=float, default=2_000, help="events per second into all rooms")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--receivers", type=int, default=1, help="load-generator processes holding the sockets")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--kill-after", type=float, default=None, help="kill the last node this many seconds in")
    parser.add_argument("--drain", type=float, default=2.0, help="seconds to wait for deliveries after the last send")
    parser.add_argument(
        "--redis-cluster",
        nargs="?",
        const=LOCAL_CLUSTER,
        default=None,
        metavar="URL",
        help="run on a Redis Cluster (sharded pub/sub): a node's URL, or none to start a local 3-primary one",
    )
    args = parser.parse_args()
    with _shared_redis(args.redis, args.redis_cluster) as (args.redis, args.cluster):
        print(json.dumps(run(args)), flush=True)


@contextlib.contextmanager
def _shared_redis(redis_url: str, cluster_url: str | None) -> Iterator[tuple[str, bool]]:
    """The Redis the nodes share and whether it is a cluster: ``--redis``, ``--redis-cluster URL``, or
    a cluster started (and thrown away) for this run."""
    if cluster_url is None:
        yield redis_url, False
    elif cluster_url != LOCAL_CLUSTER:
        yield cluster_url, True
    else:
        with LocalRedisCluster(primaries=3) as cluster:
            yield cluster.url, True


if __name__ == "__main__":
    main()
