"""The delivery worker: N concurrent senders claim due jobs, run their handlers, settle them; stops gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update

from delivery import metrics
from persistence.jobs import ClaimedJob, JobQueue, job_wakeups
from persistence.models import Job

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping

    from persistence.engine import Database

log = logging.getLogger("fieldhub.worker")


class RetryLater(Exception):
    """Raised by a handler to try again after ``after`` seconds (a push service's ``Retry-After``).

    Counts as a failed attempt; ``after=None`` uses the queue's exponential backoff.
    """

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class Worker:
    """Run job handlers by kind until told to stop.

    Args:
        db: the application's database.
        handlers: one coroutine function per job kind; raising fails the attempt.
        concurrency: jobs running at once (the N senders).
        batch: most jobs claimed per round trip.
        poll_seconds: the longest wait between claims when no wake-up arrives.
        lease_seconds: how long a claimed job is this worker's; a job still running then may be
            claimed by another worker (handlers must be idempotent, as delivery is at-least-once).
        grace_seconds: on stop, how long running jobs may finish before they are cancelled and
            released (back to the queue, the attempt not counted).
    """

    def __init__(
        self,
        *,
        db: Database,
        handlers: Mapping[str, Callable[[ClaimedJob], Awaitable[None]]],
        concurrency: int = 8,
        batch: int = 32,
        poll_seconds: float = 5.0,
        lease_seconds: float = 120.0,
        grace_seconds: float = 20.0,
    ) -> None:
        self._db = db
        self._handlers = dict(handlers)
        self._queue = JobQueue(db=db, lease_seconds=lease_seconds)
        self._concurrency = concurrency
        self._batch = batch
        self._poll = poll_seconds
        self._grace = grace_seconds
        self._running: dict[asyncio.Task[None], ClaimedJob] = {}
        self._slot_freed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then let running jobs finish (at most ``grace_seconds``)."""
        try:
            async with job_wakeups(self._db) as wake:
                while not stop.is_set():
                    wake.clear()
                    free = self._concurrency - len(self._running)
                    if free > 0 and self._start(await self._queue.claim(list(self._handlers), min(free, self._batch))):
                        continue
                    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._slot_freed.wait())]
                    if free > 0:
                        waiters.append(asyncio.ensure_future(wake.wait()))
                    await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
                    self._slot_freed.clear()
                    for waiter in waiters:
                        waiter.cancel()
                        with contextlib.suppress(asyncio.CancelledError):
                            await waiter
        finally:
            await self._wind_down()

    async def run_once(self) -> int:
        """Claim one batch, run it to the end. Returns how many jobs were claimed."""
        jobs = await self._queue.claim(list(self._handlers), self._batch)
        await asyncio.gather(*(self._run(job) for job in jobs))
        return len(jobs)

    def _start(self, jobs: list[ClaimedJob]) -> int:
        for job in jobs:
            task = asyncio.create_task(self._run(job), name=f"job-{job.kind}-{job.id}")
            self._running[task] = job
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._slot_freed.set()

    async def _wind_down(self) -> None:
        if not self._running:
            return
        _, late = await asyncio.wait(list(self._running), timeout=self._grace)
        for task in late:
            job = self._running.get(task)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if job is not None:
                await self._release(job)

    async def _release(self, job: ClaimedJob) -> None:
        """Give an unfinished job back to the queue at once, as if never claimed."""
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
                .values(status="queued", locked_until=None, attempts=job.attempts - 1, updated_at=datetime.now(UTC))
            )
        log.info("released job on shutdown", extra={"job_id": str(job.id), "kind": job.kind})

    async def _run(self, job: ClaimedJob) -> None:
        metrics.jobs_claimed.labels(kind=job.kind).inc()
        if job.attempts > job.max_attempts:
            # Claimed again after its worker died on the last attempt.
            await self._queue.fail(job, "lease expired on the last attempt")
            metrics.jobs_dead_lettered.labels(kind=job.kind).inc()
            return
        try:
            await self._handlers[job.kind](job)
        except asyncio.CancelledError:
            raise
        except RetryLater as exc:
            await self._retry(job, str(exc), exc.after)
        except Exception as exc:
            dead = await self._queue.fail(job, f"{type(exc).__name__}: {exc}"[:2000])
            (metrics.jobs_dead_lettered if dead else metrics.jobs_failed).labels(kind=job.kind).inc()
            log.warning(
                "job failed",
                extra={"job_id": str(job.id), "kind": job.kind, "attempt": job.attempts, "dead": dead},
            )
        else:
            await self._queue.complete(job)
            metrics.jobs_sent.labels(kind=job.kind).inc()

    async def _retry(self, job: ClaimedJob, reason: str, after: float | None) -> None:
        if after is None or job.attempts >= job.max_attempts:
            dead = await self._queue.fail(job, reason)
            (metrics.jobs_dead_lettered if dead else metrics.jobs_failed).labels(kind=job.kind).inc()
            return
        metrics.jobs_failed.labels(kind=job.kind).inc()
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
                .values(
                    status="queued",
                    locked_until=None,
                    last_error=reason[:2000],
                    run_at=datetime.now(UTC) + timedelta(seconds=min(after, 3600.0)),
                    updated_at=datetime.now(UTC),
                )
            )
