"""Chat maintenance jobs run by ``fieldhub worker``: the per-tenant sweep, stored-file deletion, and their schedule.

The schedule: every ``interval`` (an hour by default) each worker process lists the active tenants
(``fieldhub_active_tenants()``, the one cross-tenant step) and enqueues one ``chat.sweep`` job per
tenant, keyed by the interval's number, so any number of workers enqueue each sweep once. The
sweep itself runs as its tenant, like every job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import msgspec
from sqlalchemy import text

from channels.attachments import DELETE_FILES_JOB
from channels.retention import ORPHAN_AFTER, sweep_tenant
from persistence.jobs import enqueue

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from uuid import UUID

    from channels.storage import FileStorage
    from persistence.engine import Database
    from persistence.jobs import ClaimedJob

__all__ = ["DELETE_FILES_JOB", "SWEEP_JOB", "chat_job_handlers", "run_sweep_schedule", "schedule_sweeps"]

log = logging.getLogger("fieldhub.chat.jobs")

SWEEP_JOB: Final = "chat.sweep"
SWEEP_INTERVAL: Final = timedelta(hours=1)


def chat_job_handlers(
    *, db: Database, storage: FileStorage, orphan_after: timedelta = ORPHAN_AFTER
) -> dict[str, Callable[[ClaimedJob], Awaitable[None]]]:
    """The chat handlers ``fieldhub worker`` runs, by job kind (merged with delivery's)."""

    async def sweep(job: ClaimedJob) -> None:
        report = await sweep_tenant(db=db, storage=storage, tenant_id=job.tenant_id, orphan_after=orphan_after)
        if report.removed_anything:
            log.info("chat sweep", extra={"tenant_id": str(job.tenant_id), **msgspec.structs.asdict(report)})

    async def delete_files(job: ClaimedJob) -> None:
        prefix = f"{job.tenant_id}/"
        for key in job.payload.get("keys", []):
            # A job only ever touches its own tenant's folder, whatever its payload says.
            if isinstance(key, str) and key.startswith(prefix):
                await storage.delete(key)

    return {SWEEP_JOB: sweep, DELETE_FILES_JOB: delete_files}


async def active_tenants(db: Database) -> list[UUID]:
    """Every active tenant's id (through the narrow security-definer function)."""
    async with db.transaction() as session:
        return list(await session.scalars(text("SELECT fieldhub_active_tenants()")))


async def schedule_sweeps(db: Database, *, now: datetime | None = None, interval: timedelta = SWEEP_INTERVAL) -> int:
    """Enqueue this interval's sweep for every active tenant (once, however many workers call this).

    Returns:
        How many sweeps were enqueued now (0 when another worker did it already).
    """
    now = now or datetime.now(UTC)
    slot = int(now.timestamp() // interval.total_seconds())
    enqueued = 0
    for tenant_id in await active_tenants(db):
        async with db.transaction(tenant_id=tenant_id) as session:
            enqueued += await enqueue(
                session, tenant_id=tenant_id, kind=SWEEP_JOB, payload={}, idempotency_key=f"slot:{slot}", max_attempts=3
            )
    return enqueued


async def run_sweep_schedule(db: Database, stop: asyncio.Event, *, interval: timedelta = SWEEP_INTERVAL) -> None:
    """Schedule sweeps every ``interval`` until ``stop`` is set (a failed round is logged and retried next time)."""
    while not stop.is_set():
        try:
            await schedule_sweeps(db, interval=interval)
        except Exception:
            log.exception("could not schedule chat sweeps")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval.total_seconds())
