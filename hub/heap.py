"""Keep the garbage collector off what a process built before serving, and off what a request or an event
makes and drops within moments: a full collection walking a node's startup heap stalled every socket for
200-300 ms, and the default young-generation threshold (700) made the collector a fifth of a big API read."""

from __future__ import annotations

import gc

SERVING_THRESHOLDS = (50_000, 20, 10)
"""``gc.set_threshold`` while serving. With the default ``(700, 10, 10)`` the objects of requests in
flight live through young collections, get promoted, and are walked again by older ones; at 50,000 most
of them are gone before the first. The older generations keep about the default cadence relative to it,
so cyclic garbage that was promoted is still freed within seconds. Measured (``python -m bench.board_gc``):
the whole tenant's board (about 1,500 rows, startup heap frozen) cost 7.4-8.1 ms of CPU with the defaults
and 6.2-6.5 ms at 50,000, as with the collector off; ``bench.api`` spent 5.45 ms of server CPU per request
with the defaults and 4.6 ms at 50,000 (the older generations' thresholds made no difference within the
runs' noise), and ``bench.fanout``'s p99 stayed at 1.5-3.4 ms (docs/benchmarks.md)."""


def freeze_startup_heap() -> int:
    """Collect once, move every object alive now out of the collector's reach for good, and collect the
    young generation less often (:data:`SERVING_THRESHOLDS`).

    Call it when startup is done, before serving (a lifespan's start): later full collections walk
    only what was made since, while what startup made lives as long as the process anyway.

    Returns:
        How many objects are now frozen.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
    return gc.get_freeze_count()
