"""The delivery jobs a notification writes in the caller's transaction: their kinds, payloads and keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from sqlalchemy import Table, insert

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


async def insert_rows(session: AsyncSession, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table in one round trip.

    One Core statement executed for many rows (compiled once and cached, the rows batched by the
    driver): neither the ORM's unit of work nor a multi-row ``VALUES`` compiled afresh per call,
    whose compilation would cost more than the database's work.
    """
    if rows:
        # Core's insert, not PostgreSQL's: SQLAlchemy 2.0 caches no compiled form of the dialect's INSERT
        # (sqlalchemy/sqlalchemy#10445), so each call would compile it anew.
        await session.execute(insert(table_of(model)), rows)


def table_of(model: type[Any]) -> Table:
    """The Core table of a mapped class (statements on it skip the ORM's bulk machinery)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
