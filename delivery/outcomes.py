"""Recording delivery outcomes: a delivery's status and attempt log, written with its job's settlement.

A worker killed between a send being accepted and its record being committed sends it again, so
sends are recorded as soon as they finish, several in one statement (:func:`write_outcomes`), and a
batch keeps only a few sends out unrecorded at once (:func:`record_as_they_come`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

import msgspec
from sqlalchemy import Table, bindparam, text, type_coerce, update
from sqlalchemy.dialects.postgresql import JSONB

from delivery.worker import settlements
from persistence.models import NotificationDelivery

if TYPE_CHECKING:
    from collections.abc import Coroutine, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from delivery.batch_connection import Transactions
    from delivery.worker import JobOutcome
    from persistence.jobs import ClaimedJob

T = TypeVar("T")
Writer = Callable[["AsyncSession", list[T]], Awaitable[None]]

UNRECORDED_PER_BATCH = 16
"""Most sends of one batch out at once without their outcome committed: the most a worker killed
mid-batch makes that batch send twice (with the same Message-ID or Topic). Measured on the bench:
8 doubled the CPU per email (more, smaller record transactions) and halved the mail rate; 16 cost
about what no limit did."""
RECORD_WITHIN_SECONDS = 0.2
"""How long a finished send may wait for the others out with it, to be recorded in the same
transaction: a transaction per send or two would cost more CPU than the send itself."""


class DeliveryUpdate(msgspec.Struct, kw_only=True):
    """A delivery's new status and the log entries to append; ``attempts`` is added to its count."""

    id: UUID
    status: str
    reason: str | None = None
    attempts: int = 1
    entries: list[dict[str, Any]] = msgspec.field(default_factory=list)


def entry(at: datetime, status: str, reason: str | None = None, **extra: Any) -> dict[str, Any]:
    """One attempt-log entry: ``{"at": iso time, "status": ..., "reason": ...(if any), **extra}``."""
    logged: dict[str, Any] = {"at": at.isoformat(), "status": status, **extra}
    if reason:
        logged["reason"] = reason
    return logged


async def record(
    session: AsyncSession,
    delivery_id: UUID,
    status: str,
    *,
    reason: str | None = None,
    attempt: bool = True,
    **extra: Any,
) -> None:
    """Set one delivery's status and append the attempt to its log."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "status": status,
        "reason": reason,
        "updated_at": now,
        "log": NotificationDelivery.log.op("||")(type_coerce([entry(now, status, reason, **extra)], JSONB)),
    }
    if attempt:
        values["attempts"] = NotificationDelivery.attempts + 1
    await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id).values(**values))


_delivery = NotificationDelivery.__table__
assert isinstance(_delivery, Table)
_RECORD = (
    update(_delivery)
    .where(_delivery.c.id == bindparam("d_id"))
    .values(
        status=bindparam("d_status"),
        reason=bindparam("d_reason"),
        attempts=_delivery.c.attempts + bindparam("d_attempts"),
        log=_delivery.c.log.op("||")(bindparam("d_entries", type_=JSONB)),
        updated_at=bindparam("d_now", type_=_delivery.c.updated_at.type),
    )
)


async def record_many(session: AsyncSession, updates: list[DeliveryUpdate]) -> None:
    """Set many deliveries' status and append to their logs, in one round trip (an update without
    entries appends one saying the status and reason)."""
    if not updates:
        return
    now = datetime.now(UTC)
    await session.execute(
        _RECORD,
        [
            {
                "d_id": u.id,
                "d_status": u.status,
                "d_reason": u.reason,
                "d_attempts": u.attempts,
                "d_entries": u.entries or [entry(now, u.status, u.reason)],
                "d_now": now,
            }
            for u in updates
        ],
    )


# One statement for a whole batch of outcomes: the rows travel as arrays and are joined in, so the
# cost per outcome is a row, not a statement. Both updates run whether or not the result is read.
# The transaction commits asynchronously (synchronous_commit off, for it alone): the record is
# visible at once, and a PostgreSQL crash in the next fraction of a second costs a re-send with the
# same Message-ID or Topic, exactly as a worker crash before the commit would.
_WRITE_OUTCOMES = text(
    """
    WITH delivery_update AS (
        UPDATE notification_delivery AS d
           SET status = u.status, reason = u.reason, attempts = d.attempts + u.attempts,
               log = d.log || u.entries::jsonb, updated_at = :now
          FROM unnest(CAST(:d_id AS uuid[]), CAST(:d_status AS text[]), CAST(:d_reason AS text[]),
                      CAST(:d_attempts AS int[]), CAST(:d_entries AS text[]))
               AS u(id, status, reason, attempts, entries)
         WHERE d.id = u.id
    ), job_update AS (
        UPDATE job AS j
           SET status = s.status, locked_until = NULL, last_error = s.error,
               run_at = coalesce(s.run_at, j.run_at), finished_at = s.finished, updated_at = :now
          FROM unnest(CAST(:j_id AS uuid[]), CAST(:j_attempts AS int[]), CAST(:j_status AS text[]),
                      CAST(:j_error AS text[]), CAST(:j_run_at AS timestamptz[]), CAST(:j_finished AS timestamptz[]))
               AS s(id, attempts, status, error, run_at, finished)
         WHERE j.id = s.id AND j.attempts = s.attempts AND j.status = 'running'
    )
    SELECT set_config('synchronous_commit', 'off', true)
    """
)


async def write_outcomes(
    session: AsyncSession, updates: Sequence[DeliveryUpdate], outcomes: Sequence[tuple[ClaimedJob, JobOutcome]]
) -> None:
    """Record ``updates`` and settle the jobs of ``outcomes`` (as :func:`delivery.worker.settle_jobs`
    does) in one round trip, and let the caller's transaction commit without waiting for the disk."""
    now = datetime.now(UTC)
    jobs = settlements(outcomes)
    encode = msgspec.json.encode
    await session.execute(
        _WRITE_OUTCOMES,
        {
            "now": now,
            "d_id": [u.id for u in updates],
            "d_status": [u.status for u in updates],
            "d_reason": [u.reason for u in updates],
            "d_attempts": [u.attempts for u in updates],
            "d_entries": [encode(u.entries or [entry(now, u.status, u.reason)]).decode() for u in updates],
            "j_id": [row["j_id"] for row in jobs],
            "j_attempts": [row["j_attempts"] for row in jobs],
            "j_status": [row["j_status"] for row in jobs],
            "j_error": [row["j_error"] for row in jobs],
            "j_run_at": [row["j_run_at"] for row in jobs],
            "j_finished": [row["j_finished"] for row in jobs],
        },
    )


async def record_as_they_come(
    db: Transactions,
    tenant_id: UUID,
    sends: Sequence[Coroutine[Any, Any, T]],
    write: Writer[T],
    *,
    limit: int = UNRECORDED_PER_BATCH,
) -> None:
    """Run ``sends``, at most ``limit`` at a time; once some have finished, ``write`` their results
    in one transaction of ``db`` (a batch's :class:`~delivery.batch_connection.BatchConnection`) as
    ``tenant_id``, then start as many more.

    A finished send waits at most ``RECORD_WITHIN_SECONDS`` for the others out with it, then it is
    one statement and a commit from its record: each transaction is begun (connection, ``BEGIN``,
    tenant) while the sends it will record are still out. A worker killed at any moment has at most
    ``limit`` sends of the batch finished or out but not on record: only those are sent again.
    Returns once every send is recorded; sends should not raise.
    """
    waiting = list(reversed(sends))
    pending: set[asyncio.Future[T]] = set()
    try:
        while waiting or pending:
            while waiting and len(pending) < limit:
                pending.add(asyncio.ensure_future(waiting.pop()))
            async with db.transaction(tenant_id=tenant_id) as session:
                await session.connection()
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                if pending:
                    more, pending = await asyncio.wait(pending, timeout=RECORD_WITHIN_SECONDS)
                    done |= more
                await write(session, [task.result() for task in done])
    finally:
        for task in pending:
            task.cancel()
        for send in waiting:
            send.close()  # never started: no "never awaited" warning
