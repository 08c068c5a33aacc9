"""The delivery worker: claims due jobs, runs their handlers, settles them (done, retry later, or dead)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from persistence.jobs import ClaimedJob, JobQueue, job_wakeups

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from persistence.engine import Database

log = logging.getLogger("fieldhub.worker")


class Worker:
    """Run job handlers by kind until told to stop.

    Args:
        db: the application's database.
        handlers: one coroutine function per job kind; raising fails the attempt.
        batch: jobs claimed (and run concurrently) at once.
        poll_seconds: the longest wait between claims when no wake-up arrives.
        lease_seconds: how long a claimed job is this worker's; a job still running then may be
            claimed by another worker (handlers must be idempotent, as delivery is at-least-once).
    """

    def __init__(
        self,
        *,
        db: Database,
        handlers: Mapping[str, Callable[[ClaimedJob], Awaitable[None]]],
        batch: int = 8,
        poll_seconds: float = 5.0,
        lease_seconds: float = 120.0,
    ) -> None:
        self._db = db
        self._handlers = dict(handlers)
        self._queue = JobQueue(db=db, lease_seconds=lease_seconds)
        self._batch = batch
        self._poll = poll_seconds

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; a batch under way is finished first."""
        async with job_wakeups(self._db) as wake:
            while not stop.is_set():
                wake.clear()
                if await self.run_once():
                    continue
                waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter

    async def run_once(self) -> int:
        """Claim one batch and run it. Returns how many jobs were claimed."""
        jobs = await self._queue.claim(list(self._handlers), self._batch)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return len(jobs)

    async def _run(self, job: ClaimedJob) -> None:
        if job.attempts > job.max_attempts:
            # Claimed again after its worker died on the last attempt.
            await self._queue.fail(job, "lease expired on the last attempt")
            return
        try:
            await self._handlers[job.kind](job)
        except Exception as exc:
            dead = await self._queue.fail(job, f"{type(exc).__name__}: {exc}"[:2000])
            log.warning(
                "job failed",
                extra={"job_id": str(job.id), "kind": job.kind, "attempt": job.attempts, "dead": dead},
            )
        else:
            await self._queue.complete(job)
