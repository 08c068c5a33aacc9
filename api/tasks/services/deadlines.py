"""Due times, watched by the worker: "due soon" a tenant-set lead before, "overdue" once passed.

Each is sent once per task and due time: the task remembers the due time it was sent for, and the
notification's idempotency key names it too, so a job run twice sends nothing twice and a moved due
time is announced afresh. Overdue tasks also reach the supervisor's board.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import select

from api.tasks.schemas import OPEN_STATUSES
from api.tasks.services._base import announce, task_state, tell
from persistence.models import Task, Tenant

if TYPE_CHECKING:
    from datetime import datetime
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_DUE_SOON_MINUTES = 60
BATCH = 500
"""Tasks handled per kind and run; the rest wait for the next run."""


class DeadlineRun(msgspec.Struct, frozen=True, kw_only=True):
    due_soon: int
    overdue: int


async def due_soon_lead(session: AsyncSession, tenant_id: UUID) -> timedelta:
    """The tenant's ``settings.tasks.due_soon_minutes`` (0 turns "due soon" off), 60 when unset or invalid."""
    settings: dict[str, Any] = await session.scalar(select(Tenant.settings).where(Tenant.id == tenant_id)) or {}
    tasks = settings.get("tasks")
    minutes = tasks.get("due_soon_minutes") if isinstance(tasks, dict) else None
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 <= minutes <= 7 * 24 * 60:
        minutes = DEFAULT_DUE_SOON_MINUTES
    return timedelta(minutes=minutes)


async def watch_deadlines(session: AsyncSession, tenant_id: UUID, *, now: datetime) -> DeadlineRun:
    """Send the "due soon" and "overdue" notifications that are due at ``now`` (runs as the tenant)."""
    lead = await due_soon_lead(session, tenant_id)
    soon = 0
    if lead:
        for task in await _unannounced(
            session, Task.due_soon_notified_for, Task.due_at > now, Task.due_at <= now + lead
        ):
            assert task.due_at is not None
            await tell(
                session,
                task,
                title=f"Due soon: {task.title}",
                body=f"Due {task.due_at.isoformat()}.",
                key=f"task.due_soon:{task.id}:{task.due_at.isoformat()}",
            )
            task.due_soon_notified_for = task.due_at
            soon += 1
    late = 0
    for task in await _unannounced(session, Task.overdue_notified_for, Task.due_at <= now):
        assert task.due_at is not None
        await tell(
            session,
            task,
            title=f"Overdue: {task.title}",
            body=f"It was due {task.due_at.isoformat()}.",
            key=f"task.overdue:{task.id}:{task.due_at.isoformat()}",
        )
        task.overdue_notified_for = task.due_at
        announce(session, task, "overdue", task_state(task), by=None, now=now)
        late += 1
    await session.flush()
    return DeadlineRun(due_soon=soon, overdue=late)


async def _unannounced(session: AsyncSession, mark: Any, *window: Any) -> list[Task]:
    """Open tasks in ``window`` whose current due time ``mark`` does not record yet, locked for this run."""
    rows = await session.scalars(
        select(Task)
        .where(
            Task.status.in_(OPEN_STATUSES),
            Task.due_at.is_not(None),
            *window,
            mark.is_distinct_from(Task.due_at),
        )
        .order_by(Task.due_at, Task.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())
