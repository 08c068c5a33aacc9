"""Time tracking: one running timer per person, manual entries, and totals per task and person."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from sqlalchemy import select, text

from api.errors import AppError
from api.tasks.schemas import TaskTime, UserTime, time_entry_response
from api.tasks.services._base import announce, audit_task, require_worker, task_of_tenant
from api.workplaces.base import FieldService, require_aware, require_not_future, utc_now
from persistence.models import TaskTimeEntry

if TYPE_CHECKING:
    from api.audit import Origin
    from api.auth.principal import CurrentUser
    from api.tasks.schemas import TimeEntryCreate

MAX_MANUAL_ENTRY = timedelta(hours=24)
CLOCK_SKEW = timedelta(minutes=2)


class TimeService(FieldService[TaskTimeEntry]):
    """Timers and manual time entries on tasks."""

    class Repo(SQLAlchemyAsyncRepository[TaskTimeEntry]):
        model_type = TaskTimeEntry

    repository_type = Repo

    async def start_timer(self, task_id: UUID, *, actor: CurrentUser, origin: Origin) -> TaskTimeEntry:
        """Start the caller's timer on a task.

        Raises:
            AppError: ``not_your_task`` (403); ``timer_running`` (409) while one of theirs runs, on any task.
        """
        task = await task_of_tenant(self.session, task_id)
        await require_worker(self.session, task, actor)
        await self._lock_person(actor.id)
        running = await self.running(actor.id)
        if running is not None:
            raise AppError(
                "timer_running",
                "Your timer is running already; stop it first.",
                status_code=409,
                details={"task_id": str(running.task_id), "entry_id": str(running.id)},
            )
        entry = await self.create(
            TaskTimeEntry(tenant_id=actor.tenant_id, task_id=task.id, user_id=actor.id, started_at=utc_now())
        )
        audit_task(self.session, actor, origin, "task.timer.start", task.id, {"entry_id": str(entry.id)})
        announce(self.session, task, "time", _entry(entry), by=actor.id)
        return entry

    async def stop_timer(self, *, actor: CurrentUser, origin: Origin) -> TaskTimeEntry:
        """Stop the caller's running timer (``no_timer_running`` (409) when none runs)."""
        await self._lock_person(actor.id)
        entry = await self.running(actor.id)
        if entry is None:
            raise AppError("no_timer_running", "You have no running timer.", status_code=409)
        entry.ended_at = utc_now()
        entry = await self.update(entry)
        audit_task(self.session, actor, origin, "task.timer.stop", entry.task_id, {"entry_id": str(entry.id)})
        announce(self.session, await task_of_tenant(self.session, entry.task_id), "time", _entry(entry), by=actor.id)
        return entry

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

    async def _lock_person(self, user_id: UUID) -> None:
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"task-timer:{user_id}"}
        )


def _entry(entry: TaskTimeEntry) -> dict[str, Any]:
    state: dict[str, Any] = msgspec.to_builtins(time_entry_response(entry))
    return state
