"""Time tracking: one running timer per person, manual entries, and totals per task and person."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects.postgresql import insert
from uuid_utils.compat import uuid7

from api.errors import AppError
from api.tasks.schemas import TaskTime, UserTime, time_entry_response
from api.tasks.services._base import (
    announce,
    audit_task,
    check_worker,
    require_worker,
    task_not_found,
    task_of_tenant,
)
from api.workplaces.base import FieldService, require_aware, require_not_future, utc_now
from persistence.models import Role, Task, TaskTimeEntry
from persistence.prepared import DriverTransaction, Prepared, Row

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import TimeEntryCreate

MAX_MANUAL_ENTRY = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=2)


async def start_timer(
    db: AsyncSession | DriverTransaction, task_id: UUID, *, actor: CurrentUser, origin: Origin
) -> Row:
    """Start the caller's timer on a task, and answer with the new entry (prepared statements only: ``db`` may be a
    driver transaction).

        One read of the task, then one ``INSERT ... ON CONFLICT DO NOTHING`` on the index that allows one
        running timer per person: a second start (even a concurrent one) finds the conflict.

        Raises:
            AppError: ``not_found`` (404); ``not_your_task`` (403); ``timer_running`` (409) while one of
                theirs runs, on any task.
    """
    task = await _TASK_OF_TIMER.first(db, task_id=task_id)
    if task is None:
        raise task_not_found()
    check_worker(actor, assignee_id=task.assignee_id, assignee_role_id=task.assignee_role_id, role_name=task.role_name)
    for _ in range(2):
        now = utc_now()
        values = {
            "id": uuid7(),
            "tenant_id": actor.tenant_id,
            "task_id": task.id,
            "user_id": actor.id,
            "started_at": now,
            "manual": False,
            "note": "",
            "created_at": now,
            "updated_at": now,
        }
        entry = await _START.first(db, **values)
        if entry is not None:
            break
        running = await _RUNNING.first(db, user_id=actor.id)
        if running is not None:
            raise AppError(
                "timer_running",
                "Your timer is running already; stop it first.",
                status_code=409,
                details={"task_id": str(running.task_id), "entry_id": str(running.id)},
            )
        # The running timer was stopped between the two statements: try once more.
    if entry is None:
        raise AppError("timer_running", "Your timer is running already; stop it first.", status_code=409)
    audit_task(db, actor, origin, "task.timer.start", task.id, {"entry_id": str(entry.id)})
    announce(db, task, "time", _entry(entry), by=actor.id)
    return entry


async def stop_timer(db: AsyncSession | DriverTransaction, *, actor: CurrentUser, origin: Origin) -> Row:
    """Stop the caller's running timer (``no_timer_running`` (409) when none runs), in one ``UPDATE``.

    Two stops at once: the second waits for the first's row lock, then finds no running timer.
    """
    now = utc_now()
    entry = await _STOP.first(db, user_id_=actor.id, ended_at=now, updated_at=now)
    if entry is None:
        raise AppError("no_timer_running", "You have no running timer.", status_code=409)
    audit_task(db, actor, origin, "task.timer.stop", entry.task_id, {"entry_id": str(entry.id)})
    task = _TaskOf(**{name: getattr(entry, f"of_task_{name}") for name in _TASK_FACTS})
    announce(db, task, "time", _entry(entry), by=actor.id)
    return entry


class TimeService(FieldService[TaskTimeEntry]):
    """Timers and manual time entries on tasks."""

    class Repo(SQLAlchemyAsyncRepository[TaskTimeEntry]):
        model_type = TaskTimeEntry

    repository_type = Repo

    async def add_entry(
        self, task_id: UUID, data: TimeEntryCreate, *, actor: CurrentUser, origin: Origin
    ) -> TaskTimeEntry:
        """Record time worked by hand.

        Raises:
            AppError: ``not_your_task`` (403); ``naive_datetime`` / ``in_future`` (422);
                ``invalid_interval`` (422) unless it ends after it starts, within 24 hours.
        """
        task = await task_of_tenant(self.session, task_id)
        await require_worker(self.session, task, actor)
        started = require_aware(data.started_at, "started_at")
        ended = require_aware(data.ended_at, "ended_at")
        require_not_future(ended, "ended_at", skew=CLOCK_SKEW)
        if not started < ended <= started + MAX_MANUAL_ENTRY:
            raise AppError(
                "invalid_interval",
                "A manual entry ends after it starts, at most 24 hours later.",
                status_code=422,
            )
        entry = await self.create(
            TaskTimeEntry(
                tenant_id=actor.tenant_id,
                task_id=task.id,
                user_id=actor.id,
                started_at=started,
                ended_at=ended,
                manual=True,
                note=data.note,
            )
        )
        audit_task(self.session, actor, origin, "task.time.add", task.id, {"entry_id": str(entry.id)})
        announce(self.session, task, "time", _entry(entry), by=actor.id)
        return entry

    async def totals(self, task_id: UUID) -> TaskTime:
        """Finished time on a task, in all and per person, with every entry (running ones included)."""
        await task_of_tenant(self.session, task_id)
        entries = list(
            await self.session.scalars(
                select(TaskTimeEntry)
                .where(TaskTimeEntry.task_id == task_id)
                .order_by(TaskTimeEntry.started_at, TaskTimeEntry.id)
            )
        )
        per_user: dict[UUID, int] = defaultdict(int)
        for entry in entries:
            if entry.ended_at is not None:
                per_user[entry.user_id] += int((entry.ended_at - entry.started_at).total_seconds())
        return TaskTime(
            task_id=task_id,
            total_seconds=sum(per_user.values()),
            per_user=[UserTime(user_id=u, seconds=s) for u, s in sorted(per_user.items())],
            entries=[time_entry_response(e) for e in entries],
        )

    async def running(self, user_id: UUID) -> TaskTimeEntry | None:
        """The person's running timer, if any."""
        entry: TaskTimeEntry | None = await self.session.scalar(
            select(TaskTimeEntry).where(TaskTimeEntry.user_id == user_id, TaskTimeEntry.ended_at.is_(None))
        )
        return entry


_TASK = cast("Table", Task.__table__)
_ROLE = cast("Table", Role.__table__)
_ENTRY = cast("Table", TaskTimeEntry.__table__)
_TASK_FACTS = ("id", "tenant_id", "status", "due_at", "workplace_id", "assignee_id", "assignee_role_id")
"""The task's columns a timer reads: who may work it, and what its live event needs."""


# Built once: putting a statement together costs about as much Python as sending it.
_TASK_OF_TIMER = Prepared(
    select(
        *(_TASK.c[name] for name in _TASK_FACTS),
        select(_ROLE.c.name).where(_ROLE.c.id == _TASK.c.assignee_role_id).scalar_subquery().label("role_name"),
    ).where(_TASK.c.id == bindparam("task_id"))
)
_STARTED = ("id", "tenant_id", "task_id", "user_id", "started_at", "manual", "note", "created_at", "updated_at")
_START = Prepared(
    insert(_ENTRY)
    .values({name: bindparam(name) for name in _STARTED})
    .on_conflict_do_nothing(index_elements=["user_id"], index_where=_ENTRY.c.ended_at.is_(None))
    .returning(*_ENTRY.c)
)
"""A running timer, its values given as parameters; no row when the person's timer runs already."""
_RUNNING = Prepared(
    select(_ENTRY.c.id, _ENTRY.c.task_id).where(_ENTRY.c.user_id == bindparam("user_id"), _ENTRY.c.ended_at.is_(None))
)
_STOP = Prepared(
    update(_ENTRY)
    .where(_ENTRY.c.user_id == bindparam("user_id_"), _ENTRY.c.ended_at.is_(None), _ENTRY.c.task_id == _TASK.c.id)
    .values(ended_at=bindparam("ended_at"), updated_at=bindparam("updated_at"))
    .returning(*_ENTRY.c, *(_TASK.c[name].label(f"of_task_{name}") for name in _TASK_FACTS))
)
"""Stop the person's (``:user_id_``) running timer, with its task's facts for the live event."""


@dataclass(frozen=True, slots=True)
class _TaskOf:
    """The task of a stopped timer, as its live event needs it."""

    id: UUID
    tenant_id: UUID
    status: str
    due_at: datetime | None
    workplace_id: UUID | None
    assignee_id: UUID | None
    assignee_role_id: UUID | None


def _entry(entry: TaskTimeEntry | Row) -> dict[str, Any]:
    state: dict[str, Any] = msgspec.to_builtins(time_entry_response(entry))
    return state
