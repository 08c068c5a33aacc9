"""Periodic per-tenant jobs: every interval, one job of each kind per active tenant, enqueued once.

Any number of ``fieldhub worker`` processes run the schedule; each job is keyed by the number of
its interval (its slot), so the queue's idempotency key makes every worker after the first a no-op.
Listing the active tenants (``fieldhub_active_tenants()``) is the one cross-tenant step; the jobs
themselves run as their tenant, like every job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec
from sqlalchemy import text

from persistence.jobs import enqueue

if TYPE_CHECKING:
    from collections.abc import Sequence
    from uuid import UUID

    from persistence.engine import Database

__all__ = ["Periodic", "active_tenants", "run_schedule", "schedule_due", "slot_of"]

log = logging.getLogger("fieldhub.schedule")


class Periodic(msgspec.Struct, frozen=True, kw_only=True):
    """A job kind to run for every tenant once per ``interval``."""

    kind: str
    interval: timedelta
    max_attempts: int = 3


def slot_of(periodic: Periodic, now: datetime) -> int:
    """The number of the interval ``now`` falls in (counted from the epoch)."""
    return int(now.timestamp() // periodic.interval.total_seconds())


async def active_tenants(db: Database) -> list[UUID]:
    """Every active tenant's id (through the narrow security-definer function)."""
    async with db.transaction() as session:
        return list(await session.scalars(text("SELECT fieldhub_active_tenants()")))


async def schedule_due(
    db: Database, periodics: Sequence[Periodic], *, now: datetime | None = None, stop: asyncio.Event | None = None
) -> int:
    """Enqueue the current slot's job of each periodic for every active tenant.

    The payload carries the slot's start (``slot_start``, ISO 8601), so a handler judges "due"
    against the time it was scheduled for, not against when a busy worker got round to it. Once
    ``stop`` is set the round ends after the tenant at hand: a round over thousands of tenants
    (a transaction each) would otherwise hold a stopping worker for as long as it takes.

    Returns:
        How many jobs were enqueued now (0 when another worker did it already).
    """
    now = now or datetime.now(UTC)
    enqueued = 0
    for tenant_id in await active_tenants(db):
        if stop is not None and stop.is_set():
            break
        async with db.transaction(tenant_id=tenant_id) as session:
            for periodic in periodics:
                slot = slot_of(periodic, now)
                start = datetime.fromtimestamp(slot * periodic.interval.total_seconds(), UTC)
                enqueued += await enqueue(
                    session,
                    tenant_id=tenant_id,
                    kind=periodic.kind,
                    payload={"slot_start": start.isoformat()},
                    idempotency_key=f"slot:{slot}",
                    max_attempts=periodic.max_attempts,
                )
    return enqueued


async def run_schedule(db: Database, stop: asyncio.Event, periodics: Sequence[Periodic]) -> None:
    """Schedule ``periodics`` until ``stop`` is set, waking at the shortest interval.

    A failed round is logged and tried again at the next wake-up; a missed slot is simply the next
    slot's job, because the handlers look at the state of the data, not at which slot they are.
    """
    if not periodics:
        return
    tick = min(periodic.interval for periodic in periodics).total_seconds()
    while not stop.is_set():
        try:
            await schedule_due(db, periodics, stop=stop)
        except Exception:
            log.exception("could not schedule periodic jobs")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=tick)
