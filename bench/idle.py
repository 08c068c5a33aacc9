"""``python -m bench.idle --connections N``: server memory per idle authenticated connection."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.nodes import BenchNode, forget_bench_keys

SETTLE_S = 3.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=5_000)
    parser.add_argument("--server", choices=["uvicorn", "granian"], default="uvicorn")
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args()
    node = BenchNode(server=args.server, redis_url=args.redis, rooms=args.rooms)
    receiver: subprocess.Popen[str] | None = None
    try:
        node.wait_ready()
        time.sleep(0.5)
        base = node.rss_kib()
        receiver = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", "receive", "--urls", node.url, "--count", str(args.connections)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert receiver.stdout is not None
        if receiver.stdout.readline().strip() != "ready":
            raise RuntimeError("load generator failed")
        time.sleep(SETTLE_S)
        loaded = node.rss_kib()
    finally:
        if receiver is not None:
            receiver.kill()
            receiver.wait()
        node.stop()
        forget_bench_keys(args.redis)
    print(
        json.dumps(
            {
                "server": args.server,
                "connections": args.connections,
                "base_rss_kib": base,
                "rss_kib": loaded,
                "rss_per_idle_conn_kib": round((loaded - base) / args.connections, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
