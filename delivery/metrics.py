"""Delivery job metrics, kept by ``fieldhub worker``: jobs claimed, sent, failed and dead-lettered by kind,
and the queue as Postgres sees it (ready jobs and the age of the oldest, i.e. the delivery lag)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge
from sqlalchemy import text

if TYPE_CHECKING:
    from persistence.engine import Database

log = logging.getLogger("fieldhub.worker")

jobs_claimed = Counter("fieldhub_delivery_jobs_claimed_total", "Jobs claimed by this worker, by kind.", ["kind"])
jobs_sent = Counter("fieldhub_delivery_jobs_sent_total", "Jobs whose handler finished, by kind.", ["kind"])
jobs_failed = Counter(
    "fieldhub_delivery_jobs_failed_total", "Failed attempts that will be retried later, by kind.", ["kind"]
)
jobs_dead_lettered = Counter(
    "fieldhub_delivery_jobs_dead_lettered_total", "Jobs given up after their last attempt, by kind.", ["kind"]
)
jobs_ready = Gauge(
    "fieldhub_delivery_jobs_ready",
    "Jobs due now and waiting for a worker, by kind (read from Postgres).",
    ["kind"],
    multiprocess_mode="max",
)
jobs_scheduled = Gauge(
    "fieldhub_delivery_jobs_scheduled",
    "Queued jobs due later (retries with backoff, digests), by kind (read from Postgres).",
    ["kind"],
    multiprocess_mode="max",
)
queue_lag = Gauge(
    "fieldhub_delivery_queue_lag_seconds",
    "Age of the oldest job that is due and not yet claimed; 0 when none waits (read from Postgres).",
    multiprocess_mode="max",
)

# Kinds seen so far, so a kind whose queue emptied is set back to zero.
_known_kinds: set[str] = set()
STATS_SQL = text("SELECT kind, ready, scheduled, oldest_ready_seconds FROM fieldhub_job_queue_stats()")


async def read_queue_stats(db: Database) -> None:
    """Set the queue gauges from one read of every tenant's queue (a security-definer function:
    the worker's role sees no tenant's rows on its own)."""
    async with db.transaction() as session:
        rows = (await session.execute(STATS_SQL)).all()
    seen: set[str] = set()
    lag = 0.0
    for kind, ready, scheduled, oldest in rows:
        seen.add(kind)
        jobs_ready.labels(kind=kind).set(ready)
        jobs_scheduled.labels(kind=kind).set(scheduled)
        lag = max(lag, float(oldest or 0.0))
    for kind in _known_kinds - seen:
        jobs_ready.labels(kind=kind).set(0)
        jobs_scheduled.labels(kind=kind).set(0)
    _known_kinds.update(seen)
    queue_lag.set(lag)


async def watch_queue(db: Database, stop: asyncio.Event, *, interval_s: float = 15.0) -> None:
    """Read the queue's gauges every ``interval_s`` seconds until ``stop`` is set; errors are logged."""
    while not stop.is_set():
        try:
            await read_queue_stats(db)
        except Exception:
            log.exception("reading the job queue's statistics failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
