"""The durable job queue: enqueue inside the caller's transaction (outbox), claim with SKIP LOCKED, retry, dead-letter."""

from __future__ import annotations

import asyncio
import random
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

import msgspec
from sqlalchemy import bindparam, text, update
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.models import Job
from persistence.prepared import Prepared

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.engine import Database

__all__ = [
    "NOTIFY_CHANNEL",
    "TRACE_CONTEXT_KEY",
    "ClaimedJob",
    "JobQueue",
    "enqueue",
    "job_wakeups",
    "retry_delay",
    "set_trace_context_source",
    "with_trace_context",
]

NOTIFY_CHANNEL = "fieldhub_jobs"
MAX_DELAY = timedelta(hours=1)
TRACE_CONTEXT_KEY = "_trace"
"""Where a job's payload keeps the trace context of the code that enqueued it (taken out at claim)."""

_CLAIM = text("SELECT * FROM fieldhub_claim_jobs(:kinds, :limit, :lease)")

TraceContextSource: TypeAlias = "Callable[[], str | None]"
_trace_context_source: TraceContextSource | None = None


def set_trace_context_source(source: TraceContextSource | None) -> None:
    """Stamp every job enqueued from now on with ``source()`` (tracing's W3C ``traceparent``; ``None``: stop).

    The queue stores the string without reading it; a worker gets it back as :attr:`ClaimedJob.trace_context`.
    """
    global _trace_context_source  # one source per process, set when tracing starts
    _trace_context_source = source


def with_trace_context(payload: dict[str, Any]) -> dict[str, Any]:
    """``payload`` plus the enqueuing code's trace context, when a source is set and gives one.

    >>> with_trace_context({"to": "a@example.com"})  # no tracing: the payload itself
    {'to': 'a@example.com'}
    """
    context = _trace_context_source() if _trace_context_source is not None else None
    return {**payload, TRACE_CONTEXT_KEY: context} if context else payload


class ClaimedJob(msgspec.Struct, frozen=True, kw_only=True):
    """A job handed to one worker until its lease runs out."""

    id: UUID
    tenant_id: UUID
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    trace_context: str | None = None
    """The trace context of the code that enqueued the job (see :func:`set_trace_context_source`)."""


def _claimed(row: Any) -> ClaimedJob:
    values = dict(row._mapping)
    payload = values["payload"]
    if TRACE_CONTEXT_KEY in payload:
        values["payload"] = {k: v for k, v in payload.items() if k != TRACE_CONTEXT_KEY}
        values["trace_context"] = payload[TRACE_CONTEXT_KEY]
    return ClaimedJob(**values)


_JOB_COLUMNS = (
    "id",
    "tenant_id",
    "kind",
    "payload",
    "status",
    "run_at",
    "attempts",
    "max_attempts",
    "idempotency_key",
    "created_at",
    "updated_at",
)
_ENQUEUE = Prepared(
    insert(Job)
    .values({name: bindparam(name) for name in _JOB_COLUMNS})
    .on_conflict_do_nothing(index_elements=["tenant_id", "kind", "idempotency_key"])
    .returning(Job.id)
)
"""Prepared: SQLAlchemy 2.0 compiles PostgreSQL's ``INSERT ... ON CONFLICT`` anew at every execution
(sqlalchemy/sqlalchemy#10445), which cost more CPU than the insert."""


def job_values(
    *,
    tenant_id: UUID,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str | None,
    run_at: datetime,
    now: datetime,
    max_attempts: int = 8,
) -> dict[str, Any]:
    """One queued job's row, for :func:`enqueue_many`."""
    return {
        "id": uuid7(),
        "tenant_id": tenant_id,
        "kind": kind,
        "payload": with_trace_context(payload),
        "status": "queued",
        "run_at": run_at,
        "attempts": 0,
        "max_attempts": max_attempts,
        "idempotency_key": idempotency_key,
        "created_at": now,
        "updated_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    tenant_id: UUID,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str | None = None,
    run_at: datetime | None = None,
    max_attempts: int = 8,
) -> bool:
    """Add a job to the caller's transaction: it exists if and only if that transaction commits.

    Returns:
        False when a job of this tenant and kind with the same ``idempotency_key`` exists already
        (nothing is added).
    """
    now = datetime.now(UTC)
    row = job_values(
        tenant_id=tenant_id,
        kind=kind,
        payload=payload,
        idempotency_key=idempotency_key,
        run_at=run_at or now,
        now=now,
        max_attempts=max_attempts,
    )
    return await _ENQUEUE.scalar(session, **row) is not None


async def enqueue_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Add the jobs ``rows`` (from :func:`job_values`) to the caller's transaction in one round trip;
    a row whose tenant, kind and idempotency key exist already is left out."""
    if rows:
        await _ENQUEUE.execute_many(session, rows)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: about 2 s, 4 s, 8 s … after each failed attempt, at most an hour.

    >>> timedelta(seconds=1) <= retry_delay(1) <= timedelta(seconds=3)
    True
    """
    base = min(2.0**attempts, MAX_DELAY.total_seconds())
    # Jitter spreads the retries of many jobs that failed together (a mail server outage).
    return min(timedelta(seconds=base * random.uniform(0.5, 1.5)), MAX_DELAY)  # noqa: S311


class JobQueue:
    """Claim and settle jobs of any tenant (a worker's side of the queue).

    Args:
        db: the application's database; claiming goes through a security-definer function, and
            settling runs as the job's tenant.
        lease_seconds: how long a claimed job stays with its worker before another may take it.
    """

    def __init__(self, *, db: Database, lease_seconds: float = 60.0) -> None:
        self._db = db
        self._lease = lease_seconds

    async def claim(self, kinds: Sequence[str], limit: int) -> list[ClaimedJob]:
        """Take up to ``limit`` due jobs of ``kinds``; concurrent workers never get the same job."""
        # One statement in a transaction of its own (autocommit): the claim function crosses tenants
        # by itself, so no BEGIN, tenant setting or COMMIT round trips, and it commits before any send.
        async with self._db.engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            rows = await autocommit.execute(_CLAIM, {"kinds": list(kinds), "limit": limit, "lease": self._lease})
            return [_claimed(row) for row in rows]

    async def complete(self, job: ClaimedJob) -> None:
        await self._settle(job, status="done", error=None, run_at=None)

    async def fail(self, job: ClaimedJob, error: str) -> bool:
        """Record a failure: retry later with backoff, or dead-letter once attempts are spent.

        Returns:
            True when the job was dead-lettered.
        """
        if job.attempts >= job.max_attempts:
            await self._settle(job, status="dead", error=error, run_at=None)
            return True
        await self._settle(job, status="queued", error=error, run_at=datetime.now(UTC) + retry_delay(job.attempts))
        return False

    async def _settle(self, job: ClaimedJob, *, status: str, error: str | None, run_at: datetime | None) -> None:
        now = datetime.now(UTC)
        values: dict[str, Any] = {"status": status, "locked_until": None, "last_error": error, "updated_at": now}
        if run_at is not None:
            values["run_at"] = run_at
        if status in ("done", "dead"):
            values["finished_at"] = now
        async with self._db.transaction(tenant_id=job.tenant_id) as session:
            # Only while still ours: a worker whose lease expired must not undo the next one's work.
            await session.execute(
                update(Job)
                .where(Job.id == job.id, Job.status == "running", Job.attempts == job.attempts)
                .values(**values)
            )


@asynccontextmanager
async def job_wakeups(db: Database) -> AsyncIterator[asyncio.Event]:
    """An event set whenever a job is enqueued anywhere (PostgreSQL LISTEN on the queue's channel).

    Only a hint that saves a worker waiting for its next poll: a notification lost while the
    connection was down costs latency, never a job.
    """
    wake = asyncio.Event()
    async with db.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None

        def notified(*_: object) -> None:
            wake.set()

        await raw.add_listener(NOTIFY_CHANNEL, notified)
        try:
            yield wake
        finally:
            await raw.remove_listener(NOTIFY_CHANNEL, notified)
