"""``python -m bench.delivery_sender``: CPU time of ``delivery.push.PushSender.send`` alone, per push.

Starts the push stand-in of ``bench.delivery`` (``bench/delivery_sinks.py``, its own process), then
sends ``--pushes`` pushes of a notification-sized payload from this process, ``--concurrency`` at a
time, and prints this process's CPU time per push (``time.process_time``: on a shared machine it
moves far less with the load than wall-clock rates do) and, with ``--profile FILE``, a cProfile of
the sends. ``--module`` picks the sender to measure (``delivery.push``, or a copy of an older one) so
a change can be compared on the same machine minutes apart. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import importlib
import json
import os
import time
from typing import Any

from py_vapid import Vapid02

from bench.delivery import Sinks
from delivery.push import SubscriptionInfo

PAYLOAD = json.dumps(
    {
        "id": "0193a9a4-0000-7000-8000-000000000000",
        "category": "bench-push",
        "priority": "normal",
        "title": "Bench push 1",
        "body": "Aisle 4 restocked; planogram 12 applies from tomorrow.",
        "link": "/notifications",
        "actions": [],
        "fetch": "/api/v1/notifications/0193a9a4-0000-7000-8000-000000000000",
        "tag": "0193a9a4000070008000000000000000",
    }
).encode()


async def _send_all(sender: Any, info: SubscriptionInfo, pushes: int, concurrency: int) -> int:
    gate = asyncio.Semaphore(concurrency)
    sent = 0

    async def one() -> None:
        nonlocal sent
        async with gate:
            outcome = await sender.send(info, PAYLOAD, ttl=3600, urgency="normal", topic="0" * 32)
            sent += outcome.status == "sent"

    await asyncio.gather(*(one() for _ in range(pushes)))
    return sent


async def _run(args: argparse.Namespace, sinks: Sinks) -> dict[str, Any]:
    module = importlib.import_module(args.module)
    vapid = Vapid02()
    vapid.generate_keys()
    sender = module.PushSender(vapid=vapid, subject="mailto:ops@bench.fieldhub.test")
    info = SubscriptionInfo(endpoint=f"http://127.0.0.1:{sinks.push_port}/push/u0", keys=sinks.keys)
    try:
        await _send_all(sender, info, 50, args.concurrency)  # warm: connections, imports, caches
        profiler = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        sent = await _send_all(sender, info, args.pushes, args.concurrency)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await sender.close()
    return {
        "module": args.module,
        "pushes": args.pushes,
        "sent": sent,
        "cpu_ms_per_push": round(cpu * 1000 / args.pushes, 3),
        "wall_s": round(wall, 2),
        "load_avg": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pushes", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--module", default="delivery.push", help="module holding the PushSender to measure")
    parser.add_argument("--profile", help="write a cProfile of the timed sends to FILE")
    args = parser.parse_args()
    sinks = Sinks()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_run(args, sinks))
    else:
        result = uvloop.run(_run(args, sinks))
    finally:
        sinks.stop()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
