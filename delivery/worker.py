"""The delivery worker: N concurrent senders claim due jobs, run their handlers, settle them; stops gracefully.

A handler takes one job; a :class:`Batched` handler takes every claimed job of its kind and tenant
at once, so it can read them in one transaction, send concurrently, and record each outcome together
with the job's settlement (:func:`settle_jobs`) in the transaction that records the send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeAlias
from uuid import UUID

import msgspec
from sqlalchemy import Table, bindparam, func, select, tuple_, update

from delivery import metrics
from persistence.jobs import ClaimedJob, JobQueue, job_wakeups, retry_delay
from persistence.models import Job

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence
    from contextlib import AbstractContextManager

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database

log = logging.getLogger("fieldhub.worker")

DEFAULT_LEASE_SECONDS = 120.0
"""How long a claimed job stays with its worker: a worker killed mid-job leaves it to others after this."""


class RetryLater(Exception):
    """Raised by a handler to try again after ``after`` seconds (a push service's ``Retry-After``).

    Counts as a failed attempt; ``after=None`` uses the queue's exponential backoff.
    """

    def __init__(self, reason: str, *, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class JobOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How a batched handler settles one job: ``done``, or ``retry`` (a failed attempt: again after
    ``after`` seconds, or with exponential backoff; dead-lettered once its attempts are spent)."""

    status: Literal["done", "retry"]
    reason: str | None = None
    after: float | None = None


DONE = JobOutcome(status="done")

Handler: TypeAlias = "Callable[[ClaimedJob], Awaitable[None]]"
JobScope: TypeAlias = "Callable[[Sequence[ClaimedJob]], AbstractContextManager[object]]"
"""Wraps the run of each claimed group of jobs (a tracer opens a span continuing ``trace_context``)."""


class Batched:
    """A handler for many jobs of one kind and one tenant at once.

    ``run(jobs)`` settles the jobs it was given with :func:`settle_jobs` (ideally in the transaction
    that records what it did) and returns the ids of those it settled and committed; the worker
    fails any other that is still running, and every job still running when ``run`` raises.
    """

    def __init__(self, run: Callable[[list[ClaimedJob]], Awaitable[set[UUID]]]) -> None:
        self.run = run


_job = Job.__table__
assert isinstance(_job, Table)
_SETTLE = (
    update(_job)
    .where(_job.c.id == bindparam("j_id"), _job.c.attempts == bindparam("j_attempts"), _job.c.status == "running")
    .values(
        status=bindparam("j_status"),
        locked_until=None,
        last_error=bindparam("j_error"),
        run_at=func.coalesce(bindparam("j_run_at", type_=_job.c.run_at.type), _job.c.run_at),
        finished_at=bindparam("j_finished", type_=_job.c.finished_at.type),
        updated_at=bindparam("j_now", type_=_job.c.updated_at.type),
    )
)


async def settle_jobs(session: AsyncSession, outcomes: Sequence[tuple[ClaimedJob, JobOutcome]]) -> None:
    """Settle claimed jobs in the caller's transaction (which runs as their tenant), in one round trip.

    ``done`` finishes a job; ``retry`` puts it back after ``after`` seconds (at most an hour) or
    after the queue's backoff, or dead-letters it once ``max_attempts`` are spent. Only a job still
    held by this claim (running, same attempt) changes: a worker whose lease ran out cannot undo the
    next one's work.
    """
    if outcomes:
        await session.execute(_SETTLE, settlements(outcomes))


def settlements(outcomes: Sequence[tuple[ClaimedJob, JobOutcome]]) -> list[dict[str, Any]]:
    """The rows :func:`settle_jobs` writes (``j_id``, ``j_attempts``, ``j_status``, ``j_error``,
    ``j_run_at``, ``j_finished``, ``j_now``), counted in the job metrics; for a caller that settles
    jobs in a statement of its own."""
    now = datetime.now(UTC)
    rows = []
    for job, outcome in outcomes:
        status = "done"
        run_at: datetime | None = None
        finished: datetime | None = now
        if outcome.status == "retry":
            if job.attempts >= job.max_attempts:
                status = "dead"
            else:
                status, finished = "queued", None
                delay = (
                    retry_delay(job.attempts) if outcome.after is None else timedelta(seconds=min(outcome.after, 3600))
                )
                run_at = now + delay
        counter = {"done": metrics.jobs_sent, "queued": metrics.jobs_failed, "dead": metrics.jobs_dead_lettered}[status]
        counter.labels(kind=job.kind).inc()
        rows.append(
            {
                "j_id": job.id,
                "j_attempts": job.attempts,
                "j_status": status,
                "j_error": (outcome.reason or "")[:2000] or None,
                "j_run_at": run_at,
                "j_finished": finished,
                "j_now": now,
            }
        )
    return rows


class Worker:
    """Run job handlers by kind until told to stop.

    Args:
        db: the application's database.
        handlers: per job kind, a coroutine function for one job (raising fails the attempt) or a
            :class:`Batched` handler for all claimed jobs of that kind and tenant.
        concurrency: jobs held at once (the N senders).
        batch: most jobs claimed per round trip.
        poll_seconds: the longest wait between claims when no wake-up arrives.
        lease_seconds: how long a claimed job is this worker's; a job still running then may be
            claimed by another worker (handlers must be idempotent, as delivery is at-least-once).
        grace_seconds: on stop, how long running jobs may finish before they are cancelled and
            released (back to the queue, the attempt not counted).
        job_scope: entered around the run of each group of jobs (one job, or a batch); none by default.
    """

    def __init__(
        self,
        *,
        db: Database,
        handlers: Mapping[str, Handler | Batched],
        concurrency: int = 8,
        batch: int = 32,
        poll_seconds: float = 5.0,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        grace_seconds: float = 20.0,
        job_scope: JobScope | None = None,
    ) -> None:
        self._db = db
        self._job_scope = job_scope
        self._handlers = dict(handlers)
        self._queue = JobQueue(db=db, lease_seconds=lease_seconds)
        self._concurrency = concurrency
        self._batch = batch
        self._poll = poll_seconds
        self._grace = grace_seconds
        self._running: dict[asyncio.Task[None], list[ClaimedJob]] = {}
        self._held = 0
        self._slot_freed = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set, then let running jobs finish (at most ``grace_seconds``)."""
        try:
            async with job_wakeups(self._db) as wake:
                while not stop.is_set():
                    wake.clear()
                    free = self._concurrency - self._held
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
        await asyncio.gather(*(self._execute(group) for group in self._groups(jobs)))
        return len(jobs)

    def _groups(self, jobs: list[ClaimedJob]) -> list[list[ClaimedJob]]:
        """One group per job, except batched kinds: one group per kind and tenant."""
        groups: list[list[ClaimedJob]] = []
        batches: dict[tuple[str, UUID], list[ClaimedJob]] = {}
        for job in jobs:
            if isinstance(self._handlers[job.kind], Batched):
                batches.setdefault((job.kind, job.tenant_id), []).append(job)
            else:
                groups.append([job])
        return groups + list(batches.values())

    def _start(self, jobs: list[ClaimedJob]) -> int:
        for group in self._groups(jobs):
            task = asyncio.create_task(self._execute(group), name=f"job-{group[0].kind}-{group[0].id}")
            self._running[task] = group
            self._held += len(group)
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        group = self._running.pop(task, None)
        self._held -= len(group or [])
        self._slot_freed.set()

    async def _wind_down(self) -> None:
        if not self._running:
            return
        _, late = await asyncio.wait(list(self._running), timeout=self._grace)
        for task in late:
            group = self._running.get(task, [])
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            for job in group:
                await self._release(job)

    async def _release(self, job: ClaimedJob) -> None:
        """Give an unfinished job back to the queue at once, as if never claimed (nothing if settled)."""
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            result = await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
                .values(status="queued", locked_until=None, attempts=job.attempts - 1, updated_at=datetime.now(UTC))
            )
        if getattr(result, "rowcount", 0):
            log.info("released job on shutdown", extra={"job_id": str(job.id), "kind": job.kind})

    async def _execute(self, group: list[ClaimedJob]) -> None:
        if self._job_scope is None:
            await self._dispatch(group)
            return
        with self._job_scope(group):
            await self._dispatch(group)

    async def _dispatch(self, group: list[ClaimedJob]) -> None:
        handler = self._handlers[group[0].kind]
        if isinstance(handler, Batched):
            await self._run_batch(handler, group)
        else:
            await self._run(handler, group[0])

    async def _expired(self, job: ClaimedJob) -> bool:
        """Dead-letter a job claimed again after its worker died on the last attempt."""
        if job.attempts <= job.max_attempts:
            return False
        await self._queue.fail(job, "lease expired on the last attempt")
        metrics.jobs_dead_lettered.labels(kind=job.kind).inc()
        return True

    async def _run_batch(self, handler: Batched, group: list[ClaimedJob]) -> None:
        jobs = []
        for job in group:
            metrics.jobs_claimed.labels(kind=job.kind).inc()
            if not await self._expired(job):
                jobs.append(job)
        if not jobs:
            return
        try:
            settled = await handler.run(jobs)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("batched jobs failed", exc_info=True, extra={"kind": jobs[0].kind, "jobs": len(jobs)})
            reason = f"{type(exc).__name__}: {exc}"[:2000]
            outcomes = [(job, JobOutcome(status="retry", reason=reason)) for job in jobs]
        else:
            reason = "left unsettled by its handler"
            outcomes = [(job, JobOutcome(status="retry", reason=reason)) for job in jobs if job.id not in settled]
        if not outcomes:
            return
        async with self._db.transaction(tenant_id=jobs[0].tenant_id) as session:
            await _settle_unsettled(session, outcomes)

    async def _run(self, handler: Handler, job: ClaimedJob) -> None:
        metrics.jobs_claimed.labels(kind=job.kind).inc()
        if await self._expired(job):
            return
        try:
            await handler(job)
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


async def _settle_unsettled(session: AsyncSession, outcomes: Sequence[tuple[ClaimedJob, JobOutcome]]) -> None:
    """:func:`settle_jobs` for the jobs of ``outcomes`` that are still running under this claim."""
    held = set(
        (
            await session.execute(
                select(Job.id).where(
                    tuple_(Job.id, Job.attempts).in_([(job.id, job.attempts) for job, _ in outcomes]),
                    Job.status == "running",
                )
            )
        ).scalars()
    )
    await settle_jobs(session, [(job, outcome) for job, outcome in outcomes if job.id in held])
