"""What the task services share: who may work on a task, finding a task, and the audit record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from api.audit import Origin, record
from api.auth.permissions import Permission
from api.errors import AppError
from api.workplaces.base import require_row
from persistence.models import Task

if TYPE_CHECKING:
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth.principal import CurrentUser


async def task_of_tenant(session: AsyncSession, task_id: UUID, *, lock: bool = False) -> Task:
    """The task ``task_id`` of the caller's tenant (locked until the transaction ends when ``lock``); 404 otherwise."""
    if lock:
        task = await session.scalar(select(Task).where(Task.id == task_id).with_for_update())
        if task is None:
            raise AppError("not_found", "No task with this id.", status_code=404, details={"field": "task_id"})
        return task
    found: Task = await require_row(session, Task, task_id, "task_id")
    return found


def require_worker(task: Task, actor: CurrentUser) -> None:
    """``not_your_task`` (403) unless ``actor`` is the assignee or may change any task (``tasks:write``)."""
    if task.assignee_id != actor.id and not actor.can(Permission.TASKS_WRITE):
        raise AppError("not_your_task", "Only the task's assignee or a task manager may do this.", status_code=403)


def audit_task(
    session: AsyncSession,
    actor: CurrentUser,
    origin: Origin,
    action: str,
    task_id: UUID,
    details: dict[str, Any] | None = None,
) -> None:
    record(
        session,
        tenant_id=actor.tenant_id,
        action=action,
        actor_user_id=actor.id,
        origin=origin,
        target_type="task",
        target_id=task_id,
        details=details,
    )
