"""The delivery jobs a notification writes in the caller's transaction: their kinds, payloads and keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from persistence.jobs import with_trace_context
from persistence.models import Job

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from persistence.jobs import ClaimedJob

PUSH_JOB = "notification.push"
EMAIL_NOTIFICATION_JOB = "notification.email"
DIGEST_JOB = "notification.digest"
DISMISS_JOB = "notification.dismiss"


class NotificationJob(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of a push, email or dismiss job: the notification it is about."""

    notification_id: UUID


def notification_of(job: ClaimedJob) -> UUID:
    """The notification a push, email or dismiss job is about."""
    return msgspec.convert(job.payload, NotificationJob).notification_id


class DigestJob(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of a digest job: one user's low-priority mail of one window."""

    user_id: UUID
    window_end: datetime


def job_key(kind: str, notification_id: UUID) -> str:
    """The idempotency key of a notification's job: one push and one email per notification, ever."""
    return f"{kind}:{notification_id}"


def job_values(
    *,
    tenant_id: UUID,
    kind: str,
    payload: dict[str, Any],
    idempotency_key: str,
    run_at: datetime,
    now: datetime,
    max_attempts: int = 8,
) -> dict[str, Any]:
    """One queued job's row, as :func:`persistence.jobs.enqueue` writes it."""
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


async def enqueue_many(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Add the jobs ``rows`` (from :func:`job_values`) to the caller's transaction in one round trip;
    a row whose tenant, kind and idempotency key exist already is left out."""
    if rows:
        statement = insert(table_of(Job)).on_conflict_do_nothing(
            index_elements=["tenant_id", "kind", "idempotency_key"]
        )
        await session.execute(statement, rows)


async def insert_rows(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table in one round trip.

    One Core statement executed for many rows (compiled once and cached, the rows batched by the
    driver): neither the ORM's unit of work nor a multi-row ``VALUES`` compiled afresh per call,
    whose compilation would cost more than the database's work.
    """
    if rows:
        await session.execute(insert(table_of(model)), rows)


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class (statements on it skip the ORM's bulk machinery)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
