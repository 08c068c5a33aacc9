"""Live field events: queued in the transaction that makes them true, published on the hub once it commits.

Two kinds of topic carry them: ``t:<tenant>:task:<id>`` (a task's page, for everyone who may read it)
and ``t:<tenant>:board`` (the supervisor's board). Events are ephemeral (no ``seq``): a client that
missed some refetches over HTTP. Clock-ins and clock-outs are heard from the session's flush, so
attendance needs no code of the board's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

import msgspec
from sqlalchemy import event, inspect
from sqlalchemy.ext.asyncio import AsyncSession

from persistence.models import AttendanceRecord
from persistence.prepared import DriverTransaction

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from sqlalchemy.orm import Session, UOWTransaction

    from persistence.engine import Database

log = logging.getLogger("fieldhub.live")

PUBLISHER_KEY = "fieldhub.live_publisher"
_PENDING_KEY = "fieldhub.live_pending"
_in_flight: set[asyncio.Task[None]] = set()

TaskChange = Literal[
    "created", "updated", "assigned", "status", "comment", "checklist", "time", "dependency", "overdue", "file"
]


class TaskEvent(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type", tag="task.changed"):
    """On a task's topic: what changed (``change``), who did it (none for the worker), and the new state of
    the changed part (``data``: the task, a comment, a checklist line or a time entry)."""

    task_id: UUID
    change: TaskChange
    by: UUID | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class PresenceChange(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type", tag="board.attendance"):
    """On the board: someone clocked in (``clock_out_at`` none) or out at a workplace."""

    workplace_id: UUID
    user_id: UUID
    attendance_id: UUID
    clock_in_at: datetime
    clock_out_at: datetime | None = None


class TaskOnBoard(msgspec.Struct, kw_only=True, tag_field="type", tag="board.task"):
    """On the board: a task changed status, or became overdue (``overdue``)."""

    task_id: UUID
    change: TaskChange
    status: str
    overdue: bool
    workplace_id: UUID | None = None
    assignee_id: UUID | None = None
    due_at: datetime | None = None


class LateOnBoard(msgspec.Struct, kw_only=True, tag_field="type", tag="board.late"):
    """On the board: someone is late for (or, ``absent``, missed) their shift at a workplace, as the lateness job
    found at its run; each run repeats it with the minutes so far until they clock in or the shift is old."""

    workplace_id: UUID
    user_id: UUID
    name: str
    shift_starts_at: datetime
    minutes_late: int
    absent: bool


def task_topic(tenant_id: UUID | str, task_id: UUID | str) -> str:
    """``t:<tenant>:task:<task>``: the live page of one task."""
    return f"t:{tenant_id}:task:{task_id}"


def board_topic(tenant_id: UUID | str) -> str:
    """``t:<tenant>:board``: the supervisor's live board of the tenant."""
    return f"t:{tenant_id}:board"


def set_live_publisher(db: Database, publish: Callable[[str, bytes], Awaitable[None]] | None) -> None:
    """Publish the live events committed through ``db``'s sessions with ``publish`` (``None``: drop them)."""
    if publish is None:
        db.session_info.pop(PUBLISHER_KEY, None)
    else:
        db.session_info[PUBLISHER_KEY] = publish


def queue_event(session: AsyncSession | Session | DriverTransaction, topic: str, payload: msgspec.Struct) -> None:
    """Publish ``payload`` on ``topic`` once ``session``'s transaction commits (never, if it rolls back)."""
    if PUBLISHER_KEY not in session.info:
        return
    pending: list[tuple[str, bytes]] | None = session.info.get(_PENDING_KEY)
    if pending is None:
        pending = session.info[_PENDING_KEY] = []
        if isinstance(session, DriverTransaction):
            info = session.info
            session.after_commit.append(lambda: _publish_pending(info))
    pending.append((topic, msgspec.json.encode(payload)))


async def flush_live_events() -> None:
    """Wait for publications under way (tests and shutdown)."""
    if _in_flight:
        await asyncio.gather(*list(_in_flight), return_exceptions=True)


@event.listens_for(AsyncSession.sync_session_class, "after_flush")
def _attendance_flushed(session: Session, _flush: UOWTransaction) -> None:
    if PUBLISHER_KEY not in session.info:
        return
    for row in (*session.new, *session.dirty):
        if not isinstance(row, AttendanceRecord):
            continue
        clocked_out = bool(inspect(row).attrs.clock_out_at.history.added)
        if row in session.new or clocked_out:
            change = PresenceChange(
                workplace_id=row.workplace_id,
                user_id=row.user_id,
                attendance_id=row.id,
                clock_in_at=row.clock_in_at,
                clock_out_at=row.clock_out_at,
            )
            queue_event(session, board_topic(row.tenant_id), change)


@event.listens_for(AsyncSession.sync_session_class, "after_commit")
def _publish_committed(session: Session) -> None:
    _publish_pending(session.info)


def _publish_pending(info: dict[str, Any]) -> None:
    pending: list[tuple[str, bytes]] = info.pop(_PENDING_KEY, [])
    publish = info.get(PUBLISHER_KEY)
    if not pending or publish is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(_publish_all(publish, pending))
    _in_flight.add(task)
    task.add_done_callback(_in_flight.discard)


@event.listens_for(AsyncSession.sync_session_class, "after_rollback")
def _forget_rolled_back(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


async def _publish_all(publish: Callable[[str, bytes], Awaitable[None]], pending: list[tuple[str, bytes]]) -> None:
    for topic, payload in pending:
        try:
            await publish(topic, payload)
        except Exception:
            # The change is committed; a screen that missed the event refetches it over HTTP.
            log.warning("could not publish a live field event", exc_info=True)
